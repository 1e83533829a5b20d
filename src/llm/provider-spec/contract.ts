/**
 * The provider contract: the one seam every language-model backend plugs into.
 * Kept as small as the Vercel AI SDK's `doGenerate`/`doStream`, so a new
 * backend is a plain object with two methods; everything else (fallbacks,
 * retries, breakers, budgets, accounting) lives in the router around it.
 */

export type Role = 'user' | 'assistant';

export interface Turn {
  role: Role;
  content: string;
  /**
   * Marks the end of a prefix (everything up to and including this turn)
   * that later calls repeat unchanged, so providers with prompt caching
   * (Anthropic `cache_control`) may cache it. Providers without it ignore the mark.
   */
  cache?: true | undefined;
}

export interface GenerateRequest {
  /** Instructions. Never contains channel content. */
  system: string;
  /** Conversation turns; channel content arrives here as delimited data. */
  turns: Turn[];
  model: string;
  temperature?: number | undefined;
  maxTokens: number;
  stop?: string[] | undefined;
  signal?: AbortSignal | undefined;
  /** Per-call credentials resolved by the router (a guild's own key, or the operator's). */
  apiKey?: string | undefined;
  /**
   * Structured material for providers that work without a language model
   * (the offline `local` provider reads the numbered messages from here
   * instead of parsing them back out of text).
   */
  attachments?: RequestAttachments | undefined;
}

export interface RequestAttachments {
  task?: 'summarize' | 'summarize-map' | 'summarize-reduce' | 'chat';
  summaryType?: string;
  /** Whose view the summary is for (general, developer, executive, support, …), so an offline summarizer can select by it. */
  perspective?: string;
  /**
   * The numbered messages. For chat: the channel messages that best match
   * the question, best first (their numbers are those of the transcript the
   * model is sent).
   */
  messages?: ReadonlyArray<{ ref: number; author: string; content: string; timestamp: string; notice?: boolean; replyTo?: number }>;
  /** Chat: the member's question. */
  question?: string;
  /** Partial summaries being combined in a reduce step. */
  partials?: readonly string[];
}

export type FinishReason = 'stop' | 'length' | 'stop_sequence' | 'content_filter' | 'error' | 'other';

export interface Usage {
  /** Input tokens billed at the full input price (cache reads and writes are counted apart). */
  inputTokens: number;
  outputTokens: number;
  /** Input tokens read from the provider's prompt cache. */
  cacheReadTokens?: number | undefined;
  /** Input tokens written to the provider's prompt cache. */
  cacheWriteTokens?: number | undefined;
  /** The provider reported no usage and these are the project's estimate. */
  estimated?: boolean | undefined;
}

export interface GenerateResponse {
  text: string;
  finishReason: FinishReason;
  usage: Usage;
  /** The provider and model that actually answered. */
  provider: string;
  model: string;
}

export type StreamEvent =
  | { type: 'text'; delta: string }
  /**
   * Usage as far as the provider has reported it (Anthropic's message_start
   * gives input and cache counts before any text). Optional: it lets the
   * router bill an attempt that fails or times out after the provider
   * started counting. Counts are cumulative; a later event replaces an earlier.
   */
  | { type: 'usage'; usage: Usage }
  | { type: 'finish'; finishReason: FinishReason; usage: Usage; provider: string; model: string };

export interface ModelInfo {
  id: string;
  contextWindow: number;
  maxOutputTokens: number;
  streaming: boolean;
  /** USD per million tokens. */
  inputPricePerMTok: number;
  outputPricePerMTok: number;
  /**
   * What `temperature` the model accepts: a range's upper bound (requests
   * above it are clamped), or `false` when it refuses anything but its
   * default (the parameter is left out). Absent: sent as asked.
   */
  temperature?: { max: number } | false;
  /** USD per million input tokens read from the prompt cache; default 0.1 × input (Anthropic's rule). */
  cacheReadPricePerMTok?: number | undefined;
  /** USD per million input tokens written to the prompt cache; default 1.25 × input (Anthropic's 5-minute cache). */
  cacheWritePricePerMTok?: number | undefined;
}

export interface ProviderHealth {
  ok: boolean;
  detail?: string;
}

/**
 * The provider API a provider was written for, as the AI SDK's
 * `specificationVersion`: the host loads a plugin's provider only when it
 * states a version the host speaks, so a plugin written for another API
 * fails at load with that reason instead of misbehaving at the first call.
 */
export const PROVIDER_SPECIFICATION_VERSION = 'v1';
export type ProviderSpecificationVersion = typeof PROVIDER_SPECIFICATION_VERSION;
/** Every version this host can load. */
export const SUPPORTED_PROVIDER_SPECIFICATIONS: readonly string[] = [PROVIDER_SPECIFICATION_VERSION];

export interface Provider {
  /** Required of plugin providers (see `PluginProvider`); in-process providers may leave it out. */
  readonly specificationVersion?: ProviderSpecificationVersion;
  readonly name: string;
  readonly models: readonly ModelInfo[];
  /** Whether calls need an API key (the router refuses early when none is available). */
  readonly requiresKey: boolean;
  generate(request: GenerateRequest): Promise<GenerateResponse>;
  stream(request: GenerateRequest): AsyncIterable<StreamEvent>;
  /** Must never cost money: no completion calls. */
  health(): Promise<ProviderHealth>;
}

/** What a provider plugin's factory returns: a provider that states the API it was written for. */
export type PluginProvider = Provider & { readonly specificationVersion: ProviderSpecificationVersion };

export type ProviderErrorKind =
  | 'rate_limited' // 429
  | 'overloaded' // 529 / 503
  | 'server' // other 5xx
  | 'timeout'
  | 'network'
  | 'context_length' // the request does not fit the model's window
  | 'auth' // 401/403: the key was rejected
  | 'bad_request' // other 4xx: retrying the same request cannot help
  | 'model_unavailable' // 404 / not found / retired / unsupported model: another target may serve it
  | 'unsupported_parameter' // this provider refuses a parameter (temperature out of its range...): another target may accept it
  | 'invalid_response' // garbage JSON, malformed SSE
  | 'aborted'; // the caller gave up

/** Every provider failure is normalised to this, so the router can decide without knowing the backend. */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  constructor(
    readonly kind: ProviderErrorKind,
    message: string,
    readonly details: {
      provider: string;
      model?: string | undefined;
      status?: number | undefined;
      /** From `retry-after`, in ms. */
      retryAfterMs?: number | undefined;
      cause?: unknown;
    },
  ) {
    super(message, { cause: details.cause });
  }

  get retryable(): boolean {
    return (
      this.kind === 'rate_limited' ||
      this.kind === 'overloaded' ||
      this.kind === 'server' ||
      this.kind === 'timeout' ||
      this.kind === 'network' ||
      this.kind === 'invalid_response'
    );
  }
}

/**
 * Token estimate used where no tokenizer is at hand, aware of scripts:
 * Latin text runs about four characters a token, but Han, kana and Hangul
 * run about one token a character, and an emoji costs two or more. A flat
 * four-characters rule would let a Chinese chunk overflow the model's window.
 */
export function estimateTokens(text: string): number {
  let dense = 0;
  let emoji = 0;
  let other = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (isDenseScript(cp)) dense++;
    else if (cp >= 0x1f000 && cp <= 0x1faff) emoji++;
    else if (cp >= 0x0400 && cp <= 0x1fff) other += 2; // Cyrillic, Greek extended, Indic, Thai…: about two characters a token
    else other++;
  }
  return dense + emoji * 2 + Math.ceil(other / 4);
}

function isDenseScript(cp: number): boolean {
  return (
    (cp >= 0x3040 && cp <= 0x30ff) || // Hiragana, Katakana
    (cp >= 0x3400 && cp <= 0x4dbf) || // CJK Extension A
    (cp >= 0x4e00 && cp <= 0x9fff) || // CJK Unified Ideographs
    (cp >= 0xac00 && cp <= 0xd7af) || // Hangul syllables
    (cp >= 0xf900 && cp <= 0xfaff) || // CJK compatibility
    (cp >= 0xff00 && cp <= 0xffef) || // full-width forms
    (cp >= 0x20000 && cp <= 0x2ffff) // CJK Extensions B–F
  );
}
