import { sql, type Kysely } from 'kysely';
import type { WebhookTables } from './tables.ts';

/**
 * Whether a commit already went through this repository's branch in a push
 * the bot processed, as its new head or as the head it replaced, by a
 * delivery that could change the same config (the operator's webhook, or
 * the same per-config hook). Used to tell a replayed old body from news.
 */
export async function commitSeenInPush<DB extends WebhookTables>(
  db: Kysely<DB>,
  push: { repo: string; ref: string; sha: string; hookId: string | undefined },
): Promise<boolean> {
  const hook = push.hookId === undefined ? sql`hook_id is null` : sql`(hook_id is null or hook_id = ${push.hookId})`;
  const rows = await sql<{ one: number }>`
    select 1 as one from webhook_deliveries
    where repo = ${push.repo} and event = 'push' and status = 'done'
      and ${hook}
      and (result is null or result not like 'ignored:%')
      and payload->>'ref' = ${push.ref}
      and (payload->>'after' = ${push.sha} or payload->>'before' = ${push.sha})
    limit 1`.execute(db);
  return rows.rows.length > 0;
}
