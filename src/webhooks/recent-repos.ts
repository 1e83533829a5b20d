import { sql, type Kysely } from 'kysely';
import type { WebhookTables } from './tables.ts';

/** Repositories (`owner/name`) that sent a delivery since `since`, with the latest time. */
export async function recentWebhookRepos<DB extends WebhookTables>(db: Kysely<DB>, since: Date): Promise<Array<{ repo: string; at: Date }>> {
  const rows = await sql<{ repo: string; at: Date | string }>`
    select repo, max(received_at) as at from webhook_deliveries
    where repo is not null and received_at > ${since}
    group by repo`.execute(db);
  return rows.rows.map((r) => ({ repo: r.repo, at: new Date(r.at) }));
}
