/**
 * The part of a provider plugin's settings every provider shares: the
 * `models` list as operators write it (snake_case YAML) and its conversion
 * to the contract's ModelInfo, plus one way to report bad settings.
 */
import { z } from 'zod';
import type { ModelInfo } from './contract.ts';

/** One `models` entry. Hosted APIs must state prices; self-hosted servers may leave them at 0. */
export function modelConfigSchema(options: { pricesRequired: boolean }) {
  const price = options.pricesRequired ? z.number().nonnegative() : z.number().nonnegative().default(0);
  return z.object({
    id: z.string().min(1),
    context_window: z.int().positive(),
    max_output_tokens: z.int().positive(),
    input_price: price,
    output_price: price,
    streaming: z.boolean().default(true),
    /** `{ max: 1 }`: higher requested temperatures are clamped; `false`: the model takes only its default, none is sent. */
    temperature: z.union([z.strictObject({ max: z.number().min(0).max(2) }), z.literal(false)]).optional(),
  });
}

type ModelConfig = z.output<ReturnType<typeof modelConfigSchema>>;

/** The configured `models`, or a copy of the plugin's defaults when none are configured. */
export function modelsFromConfig(models: readonly ModelConfig[] | undefined, defaults: readonly ModelInfo[]): ModelInfo[] {
  if (models === undefined) return defaults.map((m) => ({ ...m }));
  return models.map((m) => ({
    id: m.id,
    contextWindow: m.context_window,
    maxOutputTokens: m.max_output_tokens,
    streaming: m.streaming,
    inputPricePerMTok: m.input_price,
    outputPricePerMTok: m.output_price,
    ...(m.temperature !== undefined ? { temperature: m.temperature } : {}),
  }));
}

/** An Error naming every bad field: `anthropic config: models.1.input_price: …`. */
export function settingsError(plugin: string, error: z.ZodError): Error {
  const problems = error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  return new Error(`${plugin} config: ${problems.join('; ')}`);
}
