/**
 * The anthropic plugin's settings, checked once at start-up so a typo in the
 * operator's config fails loudly with the field's path instead of at the
 * first call.
 */
import { z } from 'zod';
import type { ModelInfo } from '../../src/llm/provider-spec/contract.ts';
import { modelConfigSchema, modelsFromConfig, settingsError } from '../../src/llm/provider-spec/model-config.ts';

export interface AnthropicSettings {
  baseUrl: string;
  timeoutMs: number;
  models: ModelInfo[];
}

/** The Messages API takes temperature 0–1; a model that takes none at all is configured with `temperature: false`. */
const ANTHROPIC_TEMPERATURE = { max: 1 } as const;

/**
 * Public list prices (USD per million tokens) and limits as published by
 * Anthropic for these models; operators override them through `models`.
 */
const DEFAULT_MODELS: readonly ModelInfo[] = [
  { id: 'claude-sonnet-4-6', contextWindow: 200_000, maxOutputTokens: 64_000, streaming: true, inputPricePerMTok: 3, outputPricePerMTok: 15, temperature: ANTHROPIC_TEMPERATURE },
  { id: 'claude-haiku-4-5', contextWindow: 200_000, maxOutputTokens: 64_000, streaming: true, inputPricePerMTok: 1, outputPricePerMTok: 5, temperature: ANTHROPIC_TEMPERATURE },
  { id: 'claude-opus-4-5', contextWindow: 200_000, maxOutputTokens: 64_000, streaming: true, inputPricePerMTok: 5, outputPricePerMTok: 25, temperature: ANTHROPIC_TEMPERATURE },
];

const modelSchema = modelConfigSchema({ pricesRequired: true });

const schema = z.object({
  base_url: z.url({ protocol: /^https?$/ }).default('https://api.anthropic.com'),
  timeout_ms: z.int().positive().default(60_000),
  models: z.array(modelSchema).min(1).optional(),
  model: z.string().trim().min(1).optional(),
});

/** Throws an Error naming every bad field (`anthropic config: models.1.input_price: …`). */
export function parseSettings(config: Record<string, unknown>): AnthropicSettings {
  const parsed = schema.safeParse(config);
  if (!parsed.success) throw settingsError('anthropic', parsed.error);
  const { base_url, timeout_ms, models, model } = parsed.data;
  const offered = modelsFromConfig(models, DEFAULT_MODELS).map((m) =>
    m.temperature === undefined ? { ...m, temperature: ANTHROPIC_TEMPERATURE } : m,
  );
  return { baseUrl: base_url.replace(/\/+$/, ''), timeoutMs: timeout_ms, models: withModel(offered, model) };
}

/**
 * A `model` (ANTHROPIC_MODEL) not on the list is offered too, with the
 * window and prices of the list's first model, so budgets keep counting;
 * exact figures go in `models`.
 */
function withModel(models: ModelInfo[], model: string | undefined): ModelInfo[] {
  const like = models[0];
  if (model === undefined || like === undefined || models.some((m) => m.id === model)) return models;
  return [...models, { ...like, id: model }];
}
