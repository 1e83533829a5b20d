/**
 * The operator's bounds on what a guild's prompt front matter may choose
 * when the operator's key pays: per task, a list of allowed `provider/model`
 * targets and/or the highest list price per million tokens. The task's own
 * targets are the operator's choice and always allowed; only a prompt's
 * preference is held to the bounds.
 */
import type { ModelInfo } from '../provider-spec/contract.ts';
import type { Target, Task } from './types.ts';

export interface TaskPromptBounds {
  /** `provider/model` targets a prompt may pick; absent means any the task's providers offer. */
  allowedModels?: readonly string[] | undefined;
  /** USD per million tokens: a model whose list price is above either cap is out of bounds. */
  maxPricePerMTok?: { input?: number | undefined; output?: number | undefined } | undefined;
}

export type PromptBounds = Partial<Record<Task, TaskPromptBounds>>;

/** Why a prompt may not pick `target` for the task on the operator's key; undefined when it may. */
export function outsideBounds(bounds: TaskPromptBounds | undefined, target: Target, model: ModelInfo | undefined): string | undefined {
  if (bounds === undefined) return undefined;
  const name = `${target.provider}/${target.model}`;
  if (bounds.allowedModels !== undefined && !bounds.allowedModels.includes(name)) {
    return `${name} is not among the models the operator allows prompts to pick (${bounds.allowedModels.join(', ') || 'none'})`;
  }
  const cap = bounds.maxPricePerMTok;
  if (cap === undefined) return undefined;
  if (model === undefined) return `the price of ${name} is unknown`;
  if (cap.input !== undefined && model.inputPricePerMTok > cap.input) {
    return `${name} costs $${model.inputPricePerMTok} per million input tokens, above the operator's cap of $${cap.input}`;
  }
  if (cap.output !== undefined && model.outputPricePerMTok > cap.output) {
    return `${name} costs $${model.outputPricePerMTok} per million output tokens, above the operator's cap of $${cap.output}`;
  }
  return undefined;
}
