/**
 * A summary's message deleted in Discord (by a member, a moderator or a bulk
 * delete) takes the summary out of history. Listens to the gateway's raw
 * MESSAGE_DELETE and MESSAGE_DELETE_BULK, since discord.js reports deletions
 * of uncached messages (any message older than this session) only there.
 */
import { Events, GatewayDispatchEvents, type Client } from 'discord.js';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Logger } from '../../log/logger.ts';
import { forgetDeletedSummaries } from '../../summaries/history.ts';

/** Discord bulk-deletes at most 100 messages; more in one event is not Discord. */
const MAX_IDS = 100;

export interface SummaryDeletions {
  /** Resolves when every deletion seen so far has been applied. */
  settle(): Promise<void>;
}

export function watchSummaryDeletions(client: Client, deps: { db: Kysely<Database>; logger: Logger }): SummaryDeletions {
  let pending: Promise<void> = Promise.resolve();
  client.on(Events.Raw, (packet: { t?: unknown; d?: unknown }) => {
    const ids = deletedIds(packet);
    if (ids.length === 0) return;
    // One after another: a burst of deletions never opens a connection each.
    pending = pending.then(() =>
      forgetDeletedSummaries(deps.db, ids).then(
        (forgotten) => {
          if (forgotten > 0) deps.logger.info({ forgotten, messages: ids.length }, 'summary messages deleted in Discord; removed from history');
        },
        (error: unknown) => deps.logger.warn({ err: error }, 'could not remove deleted summary messages from history'),
      ),
    );
  });
  return { settle: () => pending };
}

function deletedIds(packet: { t?: unknown; d?: unknown }): string[] {
  const data = packet.d as { id?: unknown; ids?: unknown } | null | undefined;
  if (data === null || typeof data !== 'object') return [];
  if (packet.t === GatewayDispatchEvents.MessageDelete) return isSnowflake(data.id) ? [data.id] : [];
  if (packet.t === GatewayDispatchEvents.MessageDeleteBulk && Array.isArray(data.ids)) return data.ids.filter(isSnowflake).slice(0, MAX_IDS);
  return [];
}

function isSnowflake(value: unknown): value is string {
  return typeof value === 'string' && /^\d{1,22}$/.test(value);
}
