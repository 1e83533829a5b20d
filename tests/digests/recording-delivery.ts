import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.ts';
import type { DigestDelivery } from '../../src/digests/run-digest.ts';

/**
 * A delivery that "posts" by writing a row to `digest_test_posts` after
 * `delayMs` (a slow model), with the real delivery's rule for retries: an
 * attempt after the first first looks for what an earlier one posted. The
 * Discord delivery itself is exercised end to end in tests/e2e/digest.test.ts;
 * this one lets real processes be killed mid-run and counted.
 */
export async function createPostsTable(db: Kysely<Database>): Promise<void> {
  await sql`create table if not exists digest_test_posts (
    id bigserial primary key, run_id text not null, digest_id text not null,
    window_start timestamptz not null, window_end timestamptz not null, pid integer not null, posted_at timestamptz not null default now())`.execute(db);
}

/** `killAfterPost`: the process SIGKILLs itself right after posting, before the run is recorded (the worst moment). */
export function recordingDelivery(db: Kysely<Database>, delayMs: number, killAfterPost = false): DigestDelivery {
  return {
    async deliver(run) {
      if (run.attempt > 1) {
        const earlier = await sql<{ n: string }>`select count(*)::text as n from digest_test_posts where run_id = ${run.runId}`.execute(db);
        if (Number(earlier.rows[0]?.n ?? 0) > 0) return { outcome: 'posted', messageCount: 1, messageUrl: `test://${run.runId}` };
      }
      await new Promise((resolve, reject) => {
        const t = setTimeout(resolve, delayMs);
        run.signal.addEventListener('abort', () => {
          clearTimeout(t);
          reject(run.signal.reason as Error);
        });
      });
      await sql`insert into digest_test_posts (run_id, digest_id, window_start, window_end, pid)
        values (${run.runId}, ${run.digest.id}, ${run.window.start}, ${run.window.end}, ${process.pid})`.execute(db);
      if (killAfterPost) process.kill(process.pid, 'SIGKILL');
      return { outcome: 'posted', messageCount: 1, messageUrl: `test://${run.runId}` };
    },
  };
}
