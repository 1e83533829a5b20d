/**
 * GitHub requests of a steady workload: 100 guilds on 3 public repositories,
 * each guild resolving one of 20 contexts every simulated 30 seconds, for two
 * simulated hours, with the default TTL and no pushes. Time is a ManualClock
 * shared by the engine and the emulator, so two hours take a few seconds.
 */
import type { DatabaseHandle } from '../src/db/database.ts';
import type { PromptEngine } from '../src/prompts/engine.ts';
import type { ParsedRepo } from '../src/prompts/parsed.ts';
import { ManualClock } from '../src/resilience/clock.ts';
import { GitHubEmulator, type EmulatorRoute } from '../tests/emulators/github/server.ts';
import { buildBenchEngine, saveGuildConfig } from './_prompts-engine.ts';
import { workloadContexts, workloadRepoFiles } from './_prompts-repos.ts';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;

export interface WorkloadShape {
  guilds: number;
  repos: number;
  tickMs: number;
  windowMs: number;
  /** The engine's default (PROMPT_CACHE_TTL 15m); used to express the count per TTL period. */
  ttlMs: number;
}

export const defaultWorkload: WorkloadShape = { guilds: 100, repos: 3, tickMs: 30 * SECOND, windowMs: 2 * 60 * MINUTE, ttlMs: 15 * MINUTE };

export interface RequestFigures {
  /** API requests (everything but archive downloads) / (repos × TTL periods in the window). */
  perRepoPerTtl: number;
  /** Percent of those API requests answered 304. */
  share304: number;
  apiRequests: number;
  resolutions: number;
}

/**
 * `steady`: the window starts after a warm-up of one TTL period in which every
 * snapshot was fetched and persisted, as for a bot that was already running.
 * `cold`: the window starts with nothing fetched, so it holds the first downloads.
 */
export async function measureRequests(
  database: DatabaseHandle,
  bundled: ParsedRepo | null,
  variant: 'steady' | 'cold',
  shape: WorkloadShape = defaultWorkload,
): Promise<RequestFigures> {
  const clock = new ManualClock(Date.parse('2026-11-01T10:00:00Z'));
  const github = new GitHubEmulator({ clock, quota: { anonymous: 1_000_000 } });
  const running = await github.start();
  let engine: PromptEngine | undefined;
  try {
    const repos = Array.from({ length: shape.repos }, (_, k) => `bench/requests-${variant}-${k}`);
    for (const repo of repos) github.createRepo(repo, { files: workloadRepoFiles(repo) });
    engine = await buildBenchEngine(database, { apiUrl: running.baseUrl, clock, bundled });
    const guilds = Array.from({ length: shape.guilds }, (_, i) => `requests-${variant}-${i}`);
    for (const [i, guildId] of guilds.entries()) await saveGuildConfig(engine, running.baseUrl, guildId, repos[i % repos.length] as string);

    const workload = new Workload(engine, clock, guilds, shape.tickMs);
    if (variant === 'steady') {
      await workload.run(shape.ttlMs);
      if (github.count('tarball') !== repos.length) throw new Error(`warm-up downloaded ${github.count('tarball')} archives for ${repos.length} repos`);
    }
    github.resetStats();
    const resolutions = await workload.run(shape.windowMs);

    const apiRequests = github.count() - github.count('download');
    const notModified = github.count(undefined, 304);
    const unexpected = (['repo', 'branch', 'contents'] as EmulatorRoute[]).filter((route) => github.count(route) > 0);
    if (unexpected.length > 0) throw new Error(`the workload called routes it should not need: ${unexpected.join(', ')}`);
    return {
      perRepoPerTtl: apiRequests / (repos.length * (shape.windowMs / shape.ttlMs)),
      share304: apiRequests === 0 ? 0 : (100 * notModified) / apiRequests,
      apiRequests,
      resolutions,
    };
  } finally {
    await engine?.settle();
    await running.close();
  }
}

/** Every tick, each guild resolves its next context; background refreshes finish before the clock moves on. */
class Workload {
  private tick = 0;

  constructor(
    private readonly engine: PromptEngine,
    private readonly clock: ManualClock,
    private readonly guilds: readonly string[],
    private readonly tickMs: number,
  ) {}

  /** Runs ticks covering `durationMs`; returns the number of resolutions. */
  async run(durationMs: number): Promise<number> {
    const ticks = Math.round(durationMs / this.tickMs);
    let resolutions = 0;
    for (let t = 0; t < ticks; t++, this.tick++) {
      for (const [i, guildId] of this.guilds.entries()) {
        const context = workloadContexts[(this.tick + i) % workloadContexts.length];
        const resolved = await this.engine.resolver.resolve(guildId, context ?? {});
        if (resolved.level !== 'custom' && resolved.level !== 'cached') {
          throw new Error(`${guildId} was served at level ${resolved.level}: ${resolved.reasons.map((r) => r.reason).join('; ')}`);
        }
        resolutions += 1;
      }
      await this.engine.settle();
      this.clock.advance(this.tickMs);
    }
    return resolutions;
  }
}
