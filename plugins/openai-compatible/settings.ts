/**
 * Settings of the openai-compatible plugin, checked once at start-up. One
 * plugin serves OpenAI, Ollama, vLLM and OpenRouter: they differ only in
 * base URL, key, extra headers and models.
 */
import { z } from 'zod';
import type { ModelInfo } from '../../src/llm/provider-spec/contract.ts';
import { modelConfigSchema, modelsFromConfig, settingsError } from '../../src/llm/provider-spec/model-config.ts';

export interface OpenAICompatibleSettings {
  /** The provider name the router sees; lets an operator run several such backends side by side. */
  name: string;
  /** Without a trailing slash; conventionally ends in `/v1`. */
  baseUrl: string;
  timeoutMs: number;
  /** Sent on every call (OpenRouter's HTTP-Referer, a proxy's tenant header…). Never logged. */
  headers: Record<string, string>;
  requireKey: boolean;
  /** OpenAI's newer models want `max_completion_tokens`; most servers still read `max_tokens`. */
  maxTokensField: 'max_tokens' | 'max_completion_tokens';
  models: ModelInfo[];
}

/** OpenAI list prices (USD per million tokens) for the default base URL; other servers configure their own. */
const DEFAULT_MODELS: readonly ModelInfo[] = [
  { id: 'gpt-4o-mini', contextWindow: 128_000, maxOutputTokens: 16_384, streaming: true, inputPricePerMTok: 0.15, outputPricePerMTok: 0.6 },
  { id: 'gpt-4.1-mini', contextWindow: 1_047_576, maxOutputTokens: 32_768, streaming: true, inputPricePerMTok: 0.4, outputPricePerMTok: 1.6 },
];

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const modelSchema = modelConfigSchema({ pricesRequired: false });

const schema = z.object({
  name: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be a lowercase identifier (a-z, 0-9, -)')
    .default('openai-compatible'),
  base_url: z.url({ protocol: /^https?$/ }).optional(),
  timeout_ms: z.int().positive().default(60_000),
  headers: z
    .record(
      z.string().regex(HEADER_NAME, 'is not a valid header name'),
      z.string().regex(/^[^\r\n\0]*$/, 'must not contain line breaks'),
    )
    .default({}),
  require_key: z.boolean().default(false),
  max_tokens_field: z.enum(['max_tokens', 'max_completion_tokens']).default('max_tokens'),
  models: z.array(modelSchema).min(1).optional(),
  model: z.string().trim().min(1).optional(),
  context_window: z.int().positive().optional(),
});

const DEFAULT_BASE_URL = 'https://api.openai.com/v1';
/** Context window assumed for a self-hosted model when `context_window` is not set (Ollama's own default is smaller still). */
const DEFAULT_SELF_HOSTED_WINDOW = 8_192;

/** Throws an Error naming every bad field (`openai-compatible config: models.0.id: …`). */
export function parseSettings(config: Record<string, unknown>): OpenAICompatibleSettings {
  const parsed = schema.safeParse(config);
  if (!parsed.success) throw settingsError('openai-compatible', parsed.error);
  const c = parsed.data;
  const offered = modelsFromConfig(c.models, DEFAULT_MODELS);
  return {
    name: c.name,
    baseUrl: (c.base_url ?? DEFAULT_BASE_URL).replace(/\/+$/, ''),
    timeoutMs: c.timeout_ms,
    headers: c.headers,
    requireKey: c.require_key,
    maxTokensField: c.max_tokens_field,
    models: withModel(offered, c.model, { selfHosted: c.base_url !== undefined, contextWindow: c.context_window }),
  };
}

/**
 * The models offered once `model` (OPENAI_MODEL) is named. A server at a
 * configured `base_url` (Ollama, vLLM: self-hosted) offers only that model:
 * the listed entry when there is one, else a free one whose window is
 * `context_window` (OPENAI_CONTEXT_WINDOW, default 8,192). A hosted API
 * offers the list plus the named model, priced like the list's first so
 * budgets keep counting; exact figures go in `models`.
 */
function withModel(
  models: ModelInfo[],
  model: string | undefined,
  options: { selfHosted: boolean; contextWindow: number | undefined },
): ModelInfo[] {
  if (model === undefined) return models;
  const known = models.find((m) => m.id === model);
  if (options.selfHosted) {
    if (known !== undefined) return [known];
    const window = options.contextWindow ?? DEFAULT_SELF_HOSTED_WINDOW;
    return [
      { id: model, contextWindow: window, maxOutputTokens: Math.max(256, Math.min(4_096, Math.floor(window / 2))), streaming: true, inputPricePerMTok: 0, outputPricePerMTok: 0 },
    ];
  }
  const like = models[0];
  if (known !== undefined || like === undefined) return models;
  return [...models, { ...like, id: model }];
}
