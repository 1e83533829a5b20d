/**
 * The admin notices sink: records every notice (deduplicated and counted per
 * cause and hour, see notice-store.ts), and posts the first of each hour to
 * the guild's notices channel through `poster`. Without a channel, or when
 * the post fails, the notice stays for the status views. A notice never
 * fails its producer: errors are logged.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../resilience/clock.ts';
import type { AdminNotice, AdminNotices } from './admin-notice.ts';
import { markDelivered, noticeChannelOf, recordNotice } from './notice-store.ts';

/** Bounds on what one notice may carry (producers quote repository and member text). */
export const NOTICE_LIMITS = { cause: 200, title: 200, lines: 25, line: 500, link: 2_000 } as const;

export interface NoticePoster {
  /** Posts the notice to the channel; rejects when it cannot (no access, unknown channel). */
  post(channelId: string, notice: AdminNotice, counts: { previousRepeats: number }): Promise<{ messageId: string }>;
}

export interface NoticeSinkDeps {
  db: Kysely<Database>;
  /** Absent (no Discord token in this process): notices are kept for status only. */
  poster?: NoticePoster | undefined;
  clock: Clock;
  logger: Logger;
}

export function createNoticeSink(deps: NoticeSinkDeps): AdminNotices {
  const { db, poster, clock, logger } = deps;
  return {
    async post(raw) {
      const notice = bounded(raw);
      try {
        const recorded = await recordNotice(db, notice, new Date(clock.now()));
        if (!recorded.post) {
          logger.debug({ guildId: notice.guildId, cause: notice.cause, repeats: recorded.repeats }, 'admin notice repeated within the hour; counted');
          return;
        }
        const channelId = await noticeChannelOf(db, notice.guildId);
        if (channelId === undefined) {
          await markDelivered(db, notice.guildId, notice.cause, recorded.windowStartedAt, { error: 'no notices channel set' });
          return;
        }
        if (poster === undefined) {
          await markDelivered(db, notice.guildId, notice.cause, recorded.windowStartedAt, { error: 'this process does not post to Discord' });
          return;
        }
        try {
          const { messageId } = await poster.post(channelId, notice, { previousRepeats: recorded.previousRepeats });
          await markDelivered(db, notice.guildId, notice.cause, recorded.windowStartedAt, { channelId, messageId });
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          logger.warn({ guildId: notice.guildId, kind: notice.kind, channelId, reason }, 'could not post an admin notice; it stays in status');
          await markDelivered(db, notice.guildId, notice.cause, recorded.windowStartedAt, { error: `could not post in <#${channelId}>: ${reason.slice(0, 200)}` });
        }
      } catch (error) {
        logger.error({ err: error, guildId: notice.guildId, kind: notice.kind }, 'could not record an admin notice');
      }
    },
  };
}

function bounded(notice: AdminNotice): AdminNotice {
  const cut = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
  const lines = notice.lines.slice(0, NOTICE_LIMITS.lines).map((l) => cut(l, NOTICE_LIMITS.line));
  if (notice.lines.length > NOTICE_LIMITS.lines) lines.push(`…and ${notice.lines.length - NOTICE_LIMITS.lines} more`);
  return {
    guildId: notice.guildId,
    kind: notice.kind,
    cause: cut(notice.cause, NOTICE_LIMITS.cause),
    title: cut(notice.title, NOTICE_LIMITS.title),
    lines,
    ...(notice.link === undefined || notice.link.length > NOTICE_LIMITS.link ? {} : { link: notice.link }),
  };
}
