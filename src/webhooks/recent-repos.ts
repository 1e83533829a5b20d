import { sql, type Kysely } from 'kysely';
import type { WebhookTables } from './tables.ts';

/**
 * Repositories (`owner/name`) that sent a delivery to the operator's webhook
 * since `since`, with the latest time. Deliveries to a config's own hook
 * prove nothing about the repository to the other guilds that read it.
 */
export async function recentWebhookRepos<DB extends WebhookTables>(db: Kysely<DB>, since: Date): Promise<Array<{ repo: string; at: Date }>> {
  const rows = await sql<{ repo: string; at: Date | string }>`
    select repo, max(received_at) as at from webhook_deliveries
    where repo is not null and hook_id is null and received_at > ${since}
    group by repo`.execute(db);
  return rows.rows.map((r) => ({ repo: r.repo, at: new Date(r.at) }));
}
