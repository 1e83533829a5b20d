/**
 * Keys for reuse. Built in one place from named fields, so the key a summary
 * is written under and the key a later request reads are the same by
 * construction (the reference bot's cache never hit because they were not).
 */
import { createHash } from 'node:crypto';
import type { SummaryRequestOptions } from './store.ts';
import type { PromptReport } from './types.ts';

/** Bumped when the engine's own instructions or transcript layout change, so old partials are not reused. */
export const ENGINE_FORMAT_VERSION = 1;

function hash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/** Which prompt produced a text: the same commit and path give the same instructions. */
export function promptIdentity(prompt: PromptReport): { level: string; repo: string | null; commit: string | null; path: string | null } {
  // Levels `custom` and `cached` serve the same snapshot: only the commit matters.
  const level = prompt.level === 'cached' ? 'custom' : prompt.level;
  return { level, repo: prompt.repo, commit: prompt.commit, path: prompt.path };
}

export interface SummaryKeyInput {
  guildId: string | null;
  channelId: string;
  firstMessageId: string;
  lastMessageId: string;
  messageCount: number;
  options: SummaryRequestOptions;
  prompt: PromptReport;
}

export function summaryRequestKey(input: SummaryKeyInput): string {
  return hash([
    'summary',
    ENGINE_FORMAT_VERSION,
    input.guildId,
    input.channelId,
    input.firstMessageId,
    input.lastMessageId,
    input.messageCount,
    input.options.type,
    input.options.perspective,
    input.options.category,
    input.options.locale,
    promptIdentity(input.prompt),
  ]);
}

export interface PartialKeyInput {
  kind: 'map' | 'reduce';
  /** Partials are scoped to a guild: nothing one guild pays for is served to another. */
  guildId: string | null;
  options: SummaryRequestOptions;
  prompt: PromptReport;
  maxTokens: number;
  /** The user turn sent: the chunk's transcript, or the partials being combined. */
  content: string;
}

export function partialKey(input: PartialKeyInput): string {
  return hash([
    'partial',
    ENGINE_FORMAT_VERSION,
    input.kind,
    input.guildId,
    input.options.type,
    input.options.perspective,
    input.options.category,
    input.options.locale,
    promptIdentity(input.prompt),
    input.maxTokens,
    createHash('sha256').update(input.content).digest('hex'),
  ]);
}
