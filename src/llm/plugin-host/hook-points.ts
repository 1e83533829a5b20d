/**
 * The hook points beyond provider calls, as plugins see them: what each one
 * is handed and what it may give back. After-hooks observe; before-hooks may
 * add a few short notes; `prompt.resolved` may append a bounded text to the
 * system prompt. Everything else about the request stays the core's: events
 * are frozen copies, and a return value outside these bounds is refused
 * whole (logged and counted, the request goes on without it).
 */
import { z } from 'zod';

export const HOOK_POINTS = ['summary.before', 'summary.after', 'chat.before', 'chat.after', 'prompt.resolved'] as const;
export type HookPoint = (typeof HOOK_POINTS)[number];

/** Notes a before-hook may return: shown with the answer, like the core's own warnings. */
export const MAX_NOTES_PER_HOOK = 3;
export const MAX_NOTE_CHARS = 300;
/** Text one `prompt.resolved` hook may append to the system prompt, and all of them together. */
export const MAX_APPEND_CHARS = 2_000;
export const MAX_APPEND_TOTAL_CHARS = 4_000;

/** Before a summary is looked up or made; the prompt is already resolved. */
export interface SummaryBeforeEvent {
  guildId: string | null;
  channelId: string;
  channelName: string;
  type: string;
  perspective: string;
  category: string | null;
  locale: string | null;
  /** Messages the summary will cover. */
  messageCount: number;
  userId: string | null;
  correlationId: string;
}

/** A finished summary: made now, or answered from an identical stored one (`reused`). */
export interface SummaryAfterEvent {
  guildId: string | null;
  guildName: string | null;
  channelId: string;
  channelName: string;
  /** null when the summary could not be stored. */
  summaryId: string | null;
  text: string;
  citations: ReadonlyArray<{ ref: number; messageId: string; jumpUrl?: string }>;
  type: string;
  perspective: string;
  locale: string | null;
  provider: string;
  model: string;
  messages: number;
  chunks: number;
  costUsd: number;
  reused: boolean;
  /** Which prompt served: `repo@commit:path` parts, null where not applicable. */
  prompt: { level: string; repo: string | null; commit: string | null; path: string | null };
  warnings: readonly string[];
  userId: string | null;
  correlationId: string;
  /** ISO 8601. */
  finishedAt: string;
}

/** A member's question, before memory and channel history are read. */
export interface ChatBeforeEvent {
  guildId: string;
  channelId: string;
  userId: string;
  question: string;
  correlationId: string;
}

/** The answer, after it was made and before it is shown. */
export interface ChatAfterEvent {
  guildId: string;
  channelId: string;
  userId: string;
  question: string;
  answer: string;
  provider: string;
  model: string;
  costUsd: number;
  citations: ReadonlyArray<{ ref: number; messageId: string; jumpUrl?: string }>;
  correlationId: string;
}

/** The prompt chosen for a request, rendered, before any model sees it. */
export interface PromptResolvedEvent {
  guildId: string | null;
  category: string | null;
  type: string | null;
  perspective: string | null;
  level: string;
  repo: string | null;
  ref: string | null;
  commit: string | null;
  path: string | null;
  /** The rendered system text. */
  content: string;
}

/** What a summary.before or chat.before hook may return. */
export interface NotesAmendment {
  notes?: string[];
}

/** What a prompt.resolved hook may return. */
export interface PromptAmendment {
  /** Appended to the system prompt after a blank line. */
  append?: string;
}

export interface HookEvents {
  'summary.before': SummaryBeforeEvent;
  'summary.after': SummaryAfterEvent;
  'chat.before': ChatBeforeEvent;
  'chat.after': ChatAfterEvent;
  'prompt.resolved': PromptResolvedEvent;
}

export interface HookAmendments {
  'summary.before': NotesAmendment;
  'summary.after': void;
  'chat.before': NotesAmendment;
  'chat.after': void;
  'prompt.resolved': PromptAmendment;
}

const note = z.string().trim().min(1).max(MAX_NOTE_CHARS);

/** Checks a hook's return value; `undefined` (returning nothing) is always fine. */
export const AMENDMENT_SCHEMAS: { [P in HookPoint]: z.ZodType | null } = {
  'summary.before': z.strictObject({ notes: z.array(note).max(MAX_NOTES_PER_HOOK).optional() }),
  'chat.before': z.strictObject({ notes: z.array(note).max(MAX_NOTES_PER_HOOK).optional() }),
  'prompt.resolved': z.strictObject({ append: z.string().max(MAX_APPEND_CHARS).optional() }),
  // After-hooks observe: whatever they return is ignored.
  'summary.after': null,
  'chat.after': null,
};
