/**
 * The database outage drill, shared by tests/faults/db-kill.test.ts and
 * `npm run bench -- faults`: the real bot process on a private Postgres
 * cluster, under a webhook flood and concurrent /summarize requests, while
 * every backend of its database is terminated (pg_terminate_backend) and
 * the server is restarted (pg_ctl restart).
 */
import pg from 'pg';
import { PromptConfigStore } from '../../src/prompts/prompt-config-store.ts';
import { startE2E, type E2E } from '../e2e/harness.ts';
import type { InteractionHandle } from '../emulators/discord/server.ts';
import { openDatabase } from '../../src/db/database.ts';
import { silentLogger } from '../helpers/databases.ts';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.ts';
import { promptRepoFiles } from '../prompts/engine-helpers.ts';
import { postWebhook, pushPayload, WEBHOOK_SECRET } from '../webhooks/helpers.ts';

export type FaultKind = 'terminate-backends' | 'restart-server';

export interface DbKillOptions {
  /** The faults, in order; e.g. two terminations then one restart. */
  faults: FaultKind[];
  /** Time between faults, with the load running (ms). */
  spacingMs?: number;
  /** Concurrent webhook posters and the pause between /summarize requests. */
  posters?: number;
  summarizeEveryMs?: number;
  /** How long 2xx-answered deliveries may take to reach `done` after the faults. */
  settleTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface FaultRound {
  kind: FaultKind;
  /** Backends terminated (terminate-backends only). */
  terminated: number;
  /** From the fault until /readyz answered 200 again; undefined if it never did. */
  readyzRecoveryMs: number | undefined;
  processAlive: boolean;
}

export interface DbKillReport {
  rounds: FaultRound[];
  /** Rounds after which the process was still running and /readyz recovered. */
  survived: number;
  deliveries: { answered2xx: number; answeredOther: number; done: number; lost: string[] };
  summarize: { sent: number; summaries: number; tryAgain: number; other: string[]; unanswered: number };
  /** Log lines of the bot at fatal level, or reporting an uncaught exception or unhandled rejection. */
  processErrors: string[];
  processAliveAtEnd: boolean;
}

export type DbKillResult = DbKillReport | { skip: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runDbKillScenario(options: DbKillOptions): Promise<DbKillResult> {
  const log = options.log ?? (() => undefined);
  const server = await startPrivatePostgres();
  if ('skip' in server) return server;
  let e2e: E2E | undefined;
  let admin: pg.Pool | undefined;
  try {
    const database = 'recap_fault';
    const url = await server.createDatabase(database);
    e2e = await startE2E({
      database: { url },
      env: {
        DATABASE_POOL_MAX: '6',
        GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
        GITHUB_WEBHOOK_LEASE: '10s',
        LLM_USER_RATE_PER_MIN: '0',
        LLM_GUILD_RATE_PER_MIN: '0',
        LOG_LEVEL: 'info',
      },
    });
    const bot = e2e.bot;
    const httpUrl = bot.httpUrl!;
    const { world, discord, github } = e2e;
    log(`bot running on ${httpUrl}, database ${url}`);

    github.createRepo('acme/prompts', { files: promptRepoFiles('FAULTS') });
    const head = github.push('acme/prompts', 'main', promptRepoFiles('FAULTS-2'));
    const setup = await openDatabase({ url, dataDir: '', poolMax: 1, logger: silentLogger });
    await new PromptConfigStore(setup.db).save({
      guildId: world.guild.id,
      repoUrl: 'https://github.com/acme/prompts',
      apiBaseUrl: github.baseUrl,
      owner: 'acme',
      repo: 'prompts',
      branch: 'main',
      actorId: world.admin.id,
    });
    await setup.close();
    discord.seedMessages(world.general.id, [
      { authorId: world.member.id, content: 'Is the release ready?' },
      { authorId: world.admin.id, content: 'Tests are green; the database failover drill is on Tuesday.' },
      { authorId: world.member.id, content: 'Shipping Friday.' },
    ]);

    // The load: webhook posters and /summarize requests until told to stop.
    let loading = true;
    const answered2xx: string[] = [];
    let answeredOther = 0;
    const poster = async (): Promise<void> => {
      while (loading) {
        try {
          const res = await postWebhook(httpUrl, { event: 'push', body: pushPayload('acme/prompts', { after: head }) });
          if (res.status >= 200 && res.status < 300) answered2xx.push(res.delivery);
          else answeredOther += 1;
        } catch {
          answeredOther += 1;
        }
        await sleep(25);
      }
    };
    const handles: InteractionHandle[] = [];
    const summarizer = async (): Promise<void> => {
      while (loading) {
        handles.push(e2e!.command(world.member.id, 'summarize'));
        await sleep(options.summarizeEveryMs ?? 400);
      }
    };
    const load = [...Array.from({ length: options.posters ?? 2 }, poster), summarizer()];

    const readyzRecovery = async (since: number): Promise<number | undefined> => {
      while (Date.now() - since < 30_000) {
        try {
          const res = await fetch(`${httpUrl}/readyz`, { signal: AbortSignal.timeout(3_000) });
          if (res.status === 200) return Date.now() - since;
        } catch {
          // not answering yet
        }
        await sleep(50);
      }
      return undefined;
    };

    const rounds: FaultRound[] = [];
    await sleep(options.spacingMs ?? 3_000);
    for (const kind of options.faults) {
      const at = Date.now();
      let terminated = 0;
      if (kind === 'terminate-backends') terminated = await server.terminateBackends(database);
      else await server.restart();
      const readyzRecoveryMs = await readyzRecovery(at);
      await sleep(options.spacingMs ?? 3_000);
      rounds.push({ kind, terminated, readyzRecoveryMs, processAlive: bot.running });
      log(`${kind}: terminated ${terminated}, /readyz back after ${readyzRecoveryMs ?? 'never'} ms, process ${bot.running ? 'alive' : 'DEAD'}`);
    }
    loading = false;
    await Promise.all(load);

    // Every delivery answered 2xx must end `done` (retries and the sweeper included).
    admin = new pg.Pool({ connectionString: url, max: 1 });
    admin.on('error', () => undefined);
    const deadline = Date.now() + (options.settleTimeoutMs ?? 120_000);
    let notDone: string[] = answered2xx;
    while (Date.now() < deadline) {
      const { rows } = await admin.query<{ delivery_id: string }>("select delivery_id from webhook_deliveries where delivery_id = any($1) and status = 'done'", [answered2xx]);
      const done = new Set(rows.map((r) => r.delivery_id));
      notDone = answered2xx.filter((id) => !done.has(id));
      if (notDone.length === 0) break;
      await sleep(1_000);
    }
    log(`deliveries: ${answered2xx.length} answered 2xx, ${answeredOther} not, ${notDone.length} never done`);

    // Every /summarize got a summary or a clear "try again".
    const finals = await Promise.all(
      handles.map((h) =>
        h
          .waitFor((x) => {
            const messages = [x.original, ...x.followUps.map((f) => f.message)].filter((m) => m !== undefined);
            const last = x.originalHistory[x.originalHistory.length - 1];
            if (last === undefined || last.pending) return undefined;
            return messages;
          }, 60_000, 'a final answer')
          .catch(() => undefined),
      ),
    );
    const summarize = { sent: handles.length, summaries: 0, tryAgain: 0, other: [] as string[], unanswered: 0 };
    for (const messages of finals) {
      if (messages === undefined) summarize.unanswered += 1;
      else if (messages.some((m) => m.embeds.some((e) => e.footer !== undefined))) summarize.summaries += 1;
      else if (messages.some((m) => /try again/i.test(m.content))) summarize.tryAgain += 1;
      else summarize.other.push(messages.map((m) => m.content || JSON.stringify(m.embeds).slice(0, 200)).join(' | '));
    }
    log(`/summarize: ${JSON.stringify({ ...summarize, other: summarize.other.slice(0, 3) })}`);

    const processErrors = bot.lines
      .filter((l) => (typeof l.json?.['level'] === 'number' && (l.json['level'] as number) >= 60) || l.json?.['kind'] === 'unhandled_rejection' || /Unhandled 'error' event|uncaught/i.test(l.raw))
      .map((l) => l.raw.slice(0, 500));
    const report: DbKillReport = {
      rounds,
      survived: rounds.filter((r) => r.processAlive && r.readyzRecoveryMs !== undefined).length,
      deliveries: { answered2xx: answered2xx.length, answeredOther, done: answered2xx.length - notDone.length, lost: notDone },
      summarize,
      processErrors,
      processAliveAtEnd: bot.running,
    };
    await e2e.close();
    e2e = undefined;
    return report;
  } finally {
    await admin?.end().catch(() => undefined);
    if (e2e !== undefined) {
      for (const p of e2e.processes) p.kill();
      await e2e.close().catch(() => undefined);
    }
    await (server as PrivatePostgres).remove();
  }
}
