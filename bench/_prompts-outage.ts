/**
 * Resolution latency while GitHub is unreachable: stale snapshots served at
 * once, a cold start bounded by the refresh budget, and an open circuit
 * breaker answering without waiting.
 */
import type { DatabaseHandle } from '../src/db/database.ts';
import type { PromptEngine } from '../src/prompts/engine.ts';
import type { ParsedRepo } from '../src/prompts/parsed.ts';
import type { PromptContext, ResolvedPrompt } from '../src/prompts/types.ts';
import { ManualClock, systemClock } from '../src/resilience/clock.ts';
import { GitHubEmulator } from '../tests/emulators/github/server.ts';
import { quantile } from './_report.ts';
import { buildBenchEngine, configureGuild, saveGuildConfig } from './_prompts-engine.ts';
import { workloadContexts, workloadRepoFiles } from './_prompts-repos.ts';

const MINUTE = 60_000;

/** The breaker's threshold (defaultRepoBreakerOptions): outage failures within a minute that open it. */
const BREAKER_THRESHOLD = 5;

interface Timed {
  ms: number;
  resolved: ResolvedPrompt;
}

async function timed(engine: PromptEngine, guildId: string, context: PromptContext): Promise<Timed> {
  const started = performance.now();
  const resolved = await engine.resolver.resolve(guildId, context);
  return { ms: performance.now() - started, resolved };
}

const contextAt = (i: number): PromptContext => workloadContexts[i % workloadContexts.length] ?? {};

const reasonsOf = (r: ResolvedPrompt): string => r.reasons.map((x) => `${x.level}: ${x.reason}`).join('; ');

/**
 * Snapshots fetched, then the emulator closed (connection refused) and the
 * clock moved past the TTL. Resolutions keep coming while background
 * refreshes fail and retry; returns their p99 in ms.
 */
export async function measureOutageWarm(
  database: DatabaseHandle,
  bundled: ParsedRepo | null,
  { guilds = 12, repos = 3, rounds = 100 } = {},
): Promise<number> {
  const clock = new ManualClock(Date.parse('2026-11-02T10:00:00Z'));
  const github = new GitHubEmulator({ clock, quota: { anonymous: 1_000_000 } });
  const running = await github.start();
  let engine: PromptEngine | undefined;
  try {
    const names = Array.from({ length: repos }, (_, k) => `bench/outage-warm-${k}`);
    for (const name of names) github.createRepo(name, { files: workloadRepoFiles(name) });
    engine = await buildBenchEngine(database, { apiUrl: running.baseUrl, clock, bundled });
    const ids = Array.from({ length: guilds }, (_, i) => `outage-warm-${i}`);
    for (const [i, id] of ids.entries()) {
      await configureGuild(engine, id, names[i % names.length] as string);
      await engine.resolver.resolve(id, contextAt(i));
    }
    await running.close();
    clock.advance(20 * MINUTE);

    const samples: number[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const [i, id] of ids.entries()) {
        const { ms, resolved } = await timed(engine, id, contextAt(round + i));
        if (resolved.level !== 'cached') throw new Error(`during the outage ${id} was served at level ${resolved.level} (${reasonsOf(resolved)})`);
        samples.push(ms);
      }
      // Let the failing background refreshes run between rounds, and move
      // time past the cache's failure backoff now and then so they recur.
      await new Promise((resolve) => setImmediate(resolve));
      clock.advance(10_000);
    }
    return quantile(samples, 0.99);
  } finally {
    await engine?.settle();
    await running.close();
  }
}

/**
 * A fresh engine with nothing stored, GitHub hanging on every route: the
 * first resolutions of several guilds (concurrent, as after a restart) wait
 * for the refresh budget and fall back to the bundled prompts. Returns the
 * slowest, in ms.
 */
export async function measureOutageColdMax(
  database: DatabaseHandle,
  bundled: ParsedRepo | null,
  { guilds = 6, repos = 3 } = {},
): Promise<number> {
  const github = new GitHubEmulator({ quota: { anonymous: 1_000_000 } });
  const running = await github.start();
  let engine: PromptEngine | undefined;
  try {
    const names = Array.from({ length: repos }, (_, k) => `bench/outage-cold-${k}`);
    for (const name of names) github.createRepo(name, { files: workloadRepoFiles(name) });
    engine = await buildBenchEngine(database, { apiUrl: running.baseUrl, clock: systemClock, bundled });
    const ids = Array.from({ length: guilds }, (_, i) => `outage-cold-${i}`);
    for (const [i, id] of ids.entries()) await saveGuildConfig(engine, running.baseUrl, id, names[i % names.length] as string);
    github.fault({ kind: 'hang' });

    const results = await Promise.all(ids.map((id, i) => timed(engine as PromptEngine, id, contextAt(i))));
    for (const { resolved } of results) {
      if (resolved.level !== 'default') throw new Error(`a cold resolution during the outage was served at level ${resolved.level} (${reasonsOf(resolved)})`);
    }
    if (github.count(undefined, 'hang') === 0) throw new Error('the emulator saw no request: the cold resolutions did not wait on GitHub');
    return Math.max(...results.map((r) => r.ms));
  } finally {
    await engine?.settle();
    await running.close();
  }
}

/**
 * One hanging repository, each guild on its own branch (its own cache key,
 * so the cache's failure backoff never answers). Five concurrent refreshes
 * time out and open the repository's breaker; the resolutions timed after
 * that are answered by the open breaker. Returns their p99 in ms.
 */
export async function measureBreakerOpen(
  database: DatabaseHandle,
  bundled: ParsedRepo | null,
  { resolutions = 200 } = {},
): Promise<number> {
  const github = new GitHubEmulator({ quota: { anonymous: 1_000_000 } });
  const running = await github.start();
  let engine: PromptEngine | undefined;
  try {
    const name = 'bench/outage-breaker';
    github.createRepo(name, { files: workloadRepoFiles(name) });
    engine = await buildBenchEngine(database, { apiUrl: running.baseUrl, clock: systemClock, bundled });
    const openers = Array.from({ length: BREAKER_THRESHOLD }, (_, i) => `breaker-open-${i}`);
    const measured = Array.from({ length: resolutions }, (_, i) => `breaker-${i}`);
    for (const id of [...openers, ...measured]) await saveGuildConfig(engine, running.baseUrl, id, name, `branch-${id}`);
    // Configs are read once per guild and then held in memory; load them
    // now so the timings are of the path through the cache and the breaker.
    for (const id of measured) await engine.config(id);
    github.fault({ kind: 'hang' });

    await Promise.all(openers.map((id, i) => engine?.resolver.resolve(id, contextAt(i))));
    // The members gave up after their budget; the refreshes themselves fail
    // (and open the breaker) only when GitHub's per-request timeouts run out.
    await engine.settle();
    const hangs = github.count(undefined, 'hang');
    const samples: number[] = [];
    for (const [i, id] of measured.entries()) {
      const { ms, resolved } = await timed(engine, id, contextAt(i));
      if (resolved.level !== 'default' || !/failed repeatedly/.test(reasonsOf(resolved))) {
        throw new Error(`${id} was not answered by the open breaker (level ${resolved.level}: ${reasonsOf(resolved)})`);
      }
      samples.push(ms);
    }
    if (github.count(undefined, 'hang') !== hangs) throw new Error('requests reached GitHub while the breaker was open');
    return quantile(samples, 0.99);
  } finally {
    await engine?.settle();
    await running.close();
  }
}
