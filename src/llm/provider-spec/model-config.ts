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

/**
 * A plugin's settings failed its own validation. Carries each problem's path
 * inside the plugin's `config:` block, so the host can point at the YAML line
 * and refuse the whole config instead of running without the plugin.
 */
export class PluginSettingsError extends Error {
  override readonly name = 'PluginSettingsError';
  constructor(
    readonly plugin: string,
    readonly issues: readonly { path: readonly PropertyKey[]; message: string }[],
  ) {
    super(`${plugin} config: ${issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
}

/** An Error naming every bad field: `anthropic config: models.1.input_price: …`. */
export function settingsError(plugin: string, error: z.ZodError): PluginSettingsError {
  return new PluginSettingsError(
    plugin,
    error.issues.map((i) => ({ path: i.path, message: i.message })),
  );
}
