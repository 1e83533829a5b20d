/**
 * Warm resolution: a guild whose snapshot is fresh in memory, resolved over
 * and over through the real engine. Each call is timed on its own with
 * `process.hrtime.bigint()`, the timer's own cost included.
 */
import { basename, resolve } from 'node:path';
import type { DatabaseHandle } from '../src/db/database.ts';
import type { PromptEngine } from '../src/prompts/engine.ts';
import type { ParsedRepo } from '../src/prompts/parsed.ts';
import type { PromptContext, ResolvedPrompt } from '../src/prompts/types.ts';
import { systemClock } from '../src/resilience/clock.ts';
import { GitHubEmulator } from '../tests/emulators/github/server.ts';
import { quantile } from './_report.ts';
import { buildBenchEngine, configureGuild } from './_prompts-engine.ts';
import { warmContext, warmRepoFiles } from './_prompts-repos.ts';

export interface WarmFigures {
  p50Us: number;
  p99Us: number;
  /** What every timed call resolved to (checked on the first and the last). */
  resolved: ResolvedPrompt;
}

export interface WarmOptions {
  /** Timed calls; at least 100,000. */
  calls: number;
  /** Untimed calls first, so the timings are of optimized code, as in a bot that has been running. */
  jitWarmupCalls: number;
}

export const defaultWarmOptions: WarmOptions = { calls: 200_000, jitWarmupCalls: 20_000 };

/** A repository for the warm path: generated (a 5 KiB routed prompt), or a local directory. */
export type WarmRepo = { kind: 'generated'; promptBytes: number } | { kind: 'directory'; dir: string; context: PromptContext };

/**
 * Serves the repo through the emulator, configures one guild on it, resolves
 * once cold, then times warm resolutions.
 */
export async function measureWarm(
  database: DatabaseHandle,
  bundled: ParsedRepo | null,
  repo: WarmRepo,
  options: WarmOptions = defaultWarmOptions,
): Promise<WarmFigures> {
  const github = new GitHubEmulator({ quota: { anonymous: 1_000_000 } });
  const running = await github.start();
  let engine: PromptEngine | undefined;
  try {
    const name = repo.kind === 'generated' ? 'bench/warm' : `local/${basename(resolve(repo.dir)).replace(/[^A-Za-z0-9._-]+/g, '-') || 'repo'}`;
    if (repo.kind === 'generated') github.createRepo(name, { files: warmRepoFiles(repo.promptBytes) });
    else await github.addDirectoryRepo(name, repo.dir);
    const context = repo.kind === 'generated' ? warmContext : repo.context;

    engine = await buildBenchEngine(database, { apiUrl: running.baseUrl, clock: systemClock, bundled });
    const guildId = `warm-${name}`;
    await configureGuild(engine, guildId, name);
    const cold = await engine.resolver.resolve(guildId, context);
    if (cold.level !== 'custom') {
      throw new Error(`the context routes to no prompt of ${name} (served at level ${cold.level}: ${cold.reasons.map((r) => r.reason).join('; ')})`);
    }
    return await timeResolutions(engine, guildId, context, options);
  } finally {
    await engine?.settle();
    await running.close();
  }
}

async function timeResolutions(engine: PromptEngine, guildId: string, context: PromptContext, options: WarmOptions): Promise<WarmFigures> {
  const { resolver } = engine;
  for (let i = 0; i < options.jitWarmupCalls; i++) await resolver.resolve(guildId, context);
  const nanos = new Float64Array(options.calls);
  let first: ResolvedPrompt | undefined;
  let last: ResolvedPrompt | undefined;
  for (let i = 0; i < options.calls; i++) {
    const started = process.hrtime.bigint();
    last = await resolver.resolve(guildId, context);
    nanos[i] = Number(process.hrtime.bigint() - started);
    first ??= last;
  }
  if (first === undefined || last === undefined || first.level !== 'custom' || last.level !== 'custom' || last.content !== first.content) {
    throw new Error(`warm resolutions did not all come from the guild repo (${first?.level} … ${last?.level})`);
  }
  const micros = Array.from(nanos, (ns) => ns / 1000);
  return { p50Us: quantile(micros, 0.5), p99Us: quantile(micros, 0.99), resolved: last };
}
