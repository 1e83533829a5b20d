import { sql, type Kysely } from 'kysely';
import type { WebhookTables } from './tables.ts';

/**
 * Whether a commit was replaced on this repository's branch by a push the
 * bot processed (it was that push's `before`), through a delivery that
 * could change the same config (the operator's webhook, or the same
 * per-config hook): the branch has moved past it, so a push naming it as
 * the new head is an old one replayed. A commit that was only ever a new
 * head proves nothing here: its fetch may have failed.
 */
export async function commitReplacedInPush<DB extends WebhookTables>(
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
      and payload->>'before' = ${push.sha}
    limit 1`.execute(db);
  return rows.rows.length > 0;
}
