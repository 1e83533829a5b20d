/**
 * The engine's public vocabulary: what the summarizer and chat take and give
 * back, and the narrow seams they are built on. Nothing here knows discord.js.
 */
import type { PluginLogger, CallContext } from '../llm/plugin-host/types.ts';
import type { ResolvedPrompt } from '../prompts/types.ts';
import type { Usage } from '../llm/provider-spec/contract.ts';
import type { RouterResponse, TaskRequest } from '../llm/router/types.ts';

export type { Usage } from '../llm/provider-spec/contract.ts';

/** The one router method the engine uses; `createRouter` satisfies it. */
export interface EngineRouter {
  generate(request: TaskRequest, ctx: CallContext): Promise<RouterResponse>;
}

export type EngineTask = CallContext['task'];

/** Tokens the model chosen for a task can hold, input and answer together. */
export type ContextWindowFor = (task: EngineTask, guildId: string | undefined) => number;

export type EngineLogger = Pick<PluginLogger, 'debug' | 'warn'>;

/** What makes two requests the same, kept with the summary for people reading the table. */
export interface SummaryRequestOptions {
  type: string;
  perspective: string;
  category: string | null;
  locale: string | null;
}

/** Which prompt served and how it was found: the resolution without its text, kept with each summary. */
export type PromptReport = Pick<ResolvedPrompt, 'level' | 'repo' | 'ref' | 'commit' | 'path' | 'tried' | 'reasons'>;

export function promptReport(prompt: ResolvedPrompt): PromptReport {
  return {
    level: prompt.level,
    repo: prompt.repo,
    ref: prompt.ref,
    commit: prompt.commit,
    path: prompt.path,
    tried: [...prompt.tried],
    reasons: prompt.reasons.map((r) => ({ level: r.level, reason: r.reason })),
  };
}

/** A reference number in the text and the message it points at. */
export interface CitationLink {
  ref: number;
  messageId: string;
  jumpUrl?: string;
}

export interface SummaryResult {
  text: string;
  /** Only numbers the text cites that exist in the conversation, ascending. */
  citations: CitationLink[];
  prompt: PromptReport;
  provider: string;
  model: string;
  /** Tokens of the calls made for this request (zero when reused). */
  usage: Usage;
  costUsd: number;
  /** Messages the summary covers: every prepared message. */
  messages: number;
  /** Map chunks (1 when the conversation fit one call). */
  chunks: number;
  warnings: string[];
  /** Answered from a stored identical request, without calling any provider. */
  reused: boolean;
  /** null when the summary could not be stored (it is still returned). */
  summaryId: string | null;
}

export type SummarizeProgress =
  | { stage: 'single' }
  | { stage: 'map'; done: number; total: number; reused: number }
  | { stage: 'reduce'; round: number; done: number; total: number };

export interface SummarizeOptions {
  guildId?: string | undefined;
  guildName?: string | undefined;
  channelId: string;
  channelName: string;
  /** Summary category for prompt routing (meeting, discussion, …); `SUMMARY_DEFAULTS` fill these three when absent. */
  category?: string | undefined;
  /** brief, detailed, comprehensive, action_items, or any type the guild's repo routes. */
  type?: string | undefined;
  perspective?: string | undefined;
  userId?: string | undefined;
  /** For `{user}` in prompts. */
  userName?: string | undefined;
  locale?: string | undefined;
  correlationId: string;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: SummarizeProgress) => void) | undefined;
}

export interface ChatTurn {
  role: 'user' | 'assistant';
  /** The member's display name for user turns. */
  author?: string;
  content: string;
  /** Epoch ms. */
  at: number;
}

export interface ChatMemory {
  /** Older turns folded into prose; empty when nothing was folded yet. */
  runningSummary: string;
  turns: ChatTurn[];
  /** Estimated tokens of the summary and turns together. */
  tokens: number;
}
