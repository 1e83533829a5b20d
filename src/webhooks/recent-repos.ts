import { sql, type Kysely } from 'kysely';
import type { WebhookTables } from './tables.ts';

/**
 * Repositories that sent a delivery to the operator's webhook since
 * `since`, with the latest time (ms): the prompt engine's `webhookRepos`.
 * Deliveries to a config's own hook prove nothing about the repository to
 * the other guilds that read it.
 */
export async function recentWebhookRepos<DB extends WebhookTables>(db: Kysely<DB>, since: Date): Promise<Array<{ owner: string; repo: string; at: number }>> {
  const rows = await sql<{ repo: string; at: Date | string }>`
    select repo, max(received_at) as at from webhook_deliveries
    where repo is not null and hook_id is null and received_at > ${since}
    group by repo`.execute(db);
  return rows.rows.flatMap((r) => {
    const [owner, repo] = r.repo.split('/');
    return owner && repo ? [{ owner, repo, at: new Date(r.at).getTime() }] : [];
  });
}
