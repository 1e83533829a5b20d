/**
 * One summary request's calls to the router: the same prompt parameters on
 * each, and the accounting (tokens, cost, warnings) summed over all of them.
 */
import type { RequestAttachments } from '../llm/provider-spec/contract.ts';
import type { ModelParameters } from '../prompts/types.ts';
import type { TaskRequest } from '../llm/router/types.ts';
import type { EngineRouter, EngineTask } from './types.ts';

interface CallSpec {
  task: EngineTask;
  system: string;
  turn: string;
  /** Shared by every call of the run and sent before `turn`, marked cacheable (map calls' run context). */
  context?: string | undefined;
  maxTokens: number;
  attachments: RequestAttachments;
}

export interface CallOutcome {
  text: string;
  provider: string;
  model: string;
  outputTokens: number;
}

interface CallerContext {
  router: EngineRouter;
  parameters: ModelParameters;
  guildId?: string | undefined;
  userId?: string | undefined;
  correlationId: string;
  signal?: AbortSignal | undefined;
}

/**
 * A call's turns: the run's shared context first, as a cache breakpoint, then
 * this call's own part. Without a context, the one turn.
 */
export function requestTurns(turn: string, context?: string): TaskRequest['turns'] {
  if (context === undefined || context === '') return [{ role: 'user', content: turn }];
  return [
    { role: 'user', content: context, cache: true },
    { role: 'user', content: turn },
  ];
}

export class RequestCalls {
  inputTokens = 0;
  outputTokens = 0;
  costUsd = 0;
  calls = 0;
  readonly warnings = new Set<string>();
  /** Who answered the last call: the one that wrote the final text. */
  last: { provider: string; model: string } | undefined;

  constructor(private readonly ctx: CallerContext) {}

  async call(spec: CallSpec): Promise<CallOutcome> {
    const { parameters } = this.ctx;
    const request: TaskRequest = {
      system: spec.system,
      turns: requestTurns(spec.turn, spec.context),
      maxTokens: spec.maxTokens,
      attachments: spec.attachments,
    };
    if (parameters.temperature !== undefined) request.temperature = parameters.temperature;
    if (parameters.provider !== undefined || parameters.model !== undefined) {
      request.preferred = {
        provider: parameters.provider,
        model: parameters.model,
      };
    }
    if (this.ctx.signal !== undefined) request.signal = this.ctx.signal;
    this.calls++;
    const response = await this.ctx.router.generate(request, {
      task: spec.task,
      correlationId: this.ctx.correlationId,
      guildId: this.ctx.guildId,
      userId: this.ctx.userId,
    });
    this.inputTokens += response.usage.inputTokens;
    this.outputTokens += response.usage.outputTokens;
    this.costUsd += response.costUsd;
    this.last = { provider: response.provider, model: response.model };
    if (response.preferredIgnored !== undefined) {
      const asked = [parameters.provider, parameters.model].filter((x) => x !== undefined).join('/');
      this.warnings.add(`the prompt asks for model ${asked}, which is not available; used ${response.provider}/${response.model}`);
    }
    if (response.finishReason === 'length') {
      this.warnings.add(`an answer reached its ${spec.maxTokens}-token limit and may be cut short`);
    }
    return { text: response.text, provider: response.provider, model: response.model, outputTokens: response.usage.outputTokens };
  }
}
