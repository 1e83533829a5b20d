import type { Message } from '../model.ts';
import { MessageMapper, type WarningCode } from './message-mapper.ts';
import type { JsonValue } from './value-assembler.ts';

/**
 * Gathers mapped messages and keeps the books: duplicates (exports made by
 * merging partial runs repeat messages; the first copy wins), skipped system
 * messages by reason, and warnings folded by kind so a file with 50,000 naive
 * timestamps yields one warning with a count, not 50,000.
 */

export interface ImportWarning {
  code: WarningCode | 'message-count-mismatch' | 'missing-channel-id';
  /** The first occurrence, in words. */
  message: string;
  occurrences: number;
  firstMessageIndex?: number;
}

export interface SkippedMessages {
  reason: string;
  count: number;
  firstMessageIndex: number;
  firstMessageId: string;
}

export class ImportCollector {
  readonly messages: Message[] = [];
  duplicatesDropped = 0;
  readonly userNames = new Map<string, string>();
  readonly roleNames = new Map<string, string>();
  /** Message id → the channel its `replyTo` is in, when the export says. */
  readonly replyChannels = new Map<string, string>();

  private readonly seen = new Set<string>();
  private readonly skips = new Map<string, SkippedMessages>();
  private readonly warningsByCode = new Map<string, ImportWarning>();
  private readonly mapper: MessageMapper;

  constructor(source: string | undefined) {
    this.mapper = new MessageMapper(
      {
        warn: (code, index, message) => this.warn(code, message, index),
        nameUser: (id, name) => {
          if (!this.userNames.has(id)) this.userNames.set(id, name);
        },
        nameRole: (id, name) => {
          if (!this.roleNames.has(id)) this.roleNames.set(id, name);
        },
      },
      source,
    );
  }

  add(raw: JsonValue, index: number): void {
    const outcome = this.mapper.map(raw, index);
    const id = outcome.kind === 'message' ? outcome.message.id : outcome.id;
    if (this.seen.has(id)) {
      this.duplicatesDropped++;
      return;
    }
    this.seen.add(id);
    if (outcome.kind === 'message') {
      this.messages.push(outcome.message);
      if (outcome.replyChannelId !== undefined) this.replyChannels.set(id, outcome.replyChannelId);
      return;
    }
    const tally = this.skips.get(outcome.reason);
    if (tally) tally.count++;
    else this.skips.set(outcome.reason, { reason: outcome.reason, count: 1, firstMessageIndex: index, firstMessageId: id });
  }

  warn(code: ImportWarning['code'], message: string, messageIndex?: number): void {
    const known = this.warningsByCode.get(code);
    if (known) {
      known.occurrences++;
      return;
    }
    this.warningsByCode.set(code, { code, message, occurrences: 1, ...(messageIndex !== undefined ? { firstMessageIndex: messageIndex } : {}) });
  }

  get skipped(): SkippedMessages[] {
    return [...this.skips.values()];
  }

  get warnings(): ImportWarning[] {
    return [...this.warningsByCode.values()];
  }
}
