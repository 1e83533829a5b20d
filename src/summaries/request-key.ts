/**
 * Keys for reuse. Built in one place from named fields, so the key a summary
 * is written under and the key a later request reads are the same by
 * construction (the reference bot's cache never hit because they were not).
 */
import { createHash } from 'node:crypto';
import type { NewSummary } from './store.ts';
import type { PromptReport, SummaryRequestOptions } from './types.ts';

/**
 * Bumped when the engine's own instructions, transcript layout or key fields
 * change, so old summaries and partials are not reused. 2: summary keys cover
 * the transcript and the prompt's text.
 */
const ENGINE_FORMAT_VERSION = 2;

function hash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/** Which prompt produced a text: the same commit and path give the same instructions. */
function promptIdentity(prompt: PromptReport): { level: string; repo: string | null; commit: string | null; path: string | null } {
  // Levels `custom` and `cached` serve the same snapshot: only the commit matters.
  const level = prompt.level === 'cached' ? 'custom' : prompt.level;
  return { level, repo: prompt.repo, commit: prompt.commit, path: prompt.path };
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

interface SummaryKeyInput
  extends Pick<NewSummary, 'guildId' | 'channelId' | 'firstMessageId' | 'lastMessageId' | 'messageCount' | 'options' | 'prompt'> {
  /**
   * sha-256 of the prompt's text as resolved. The commit and path already
   * pin a repository's prompt; the bundled and compiled-in prompts have no
   * commit, and their text changes with the program.
   */
  promptSha256: string;
  /**
   * sha-256 of the prepared conversation exactly as it is sent (see
   * transcriptDigest): an edited, deleted or re-attached message changes it,
   * where ids and counts alone would still match and serve a summary that
   * quotes what is no longer there.
   */
  transcriptSha256: string;
}

/**
 * What the request is: the conversation as sent, the prompt, the options.
 * Not who answered: that is not known before the call, so it is stored with
 * the summary and judged at lookup (see reuse-policy.ts).
 */
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
    input.promptSha256,
    input.transcriptSha256,
  ]);
}

interface PartialKeyInput {
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
