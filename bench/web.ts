/**
 * `npm run bench -- web [--runs 200]`: the web role's pages and API, served by
 * the real app over HTTP (RECAP_ROLE=web) against the Discord and GitHub
 * emulators and an embedded database holding a busy guild: 10,000 summaries
 * and 90 days of usage (100 calls a day).
 *
 *   dashboard-page-p95   server time (Server-Timing) of the guild overview, logged in as an admin; target ≤ 50 ms
 *   dashboard-page-p50   the same, median
 *
 * Each figure is one entry of FIGURES, measured on the same world: add one
 * there (e.g. the API's `api-summary-get-p95`).
 */
import { seedSummaries, seedUsage } from '../tests/web/seed.ts';
import { startDashboardWorld, type DashboardWorld } from '../tests/web/dashboard-world.ts';
import { openMemoryDatabase } from './_prompts-engine.ts';
import { quantile, report } from './_report.ts';
import { apiSummaryGetP95 } from './_web-api.ts';

const SUMMARIES = 10_000;
const USAGE_DAYS = 90;
const CALLS_PER_DAY = 100;

interface BenchWorld {
  world: DashboardWorld;
  /** The `cookie` header of an admin's dashboard session. */
  adminCookie: string;
  runs: number;
}

type Figure = (bench: BenchWorld) => Promise<void>;

/** The API's own world (keys, a REST-only bot view); it needs none of the dashboard's. */
async function apiSummaryGet(): Promise<void> {
  report('api-summary-get-p95', await apiSummaryGetP95(), 'ms');
}

const FIGURES: Figure[] = [dashboardPage, apiSummaryGet];

/** Logs in through the emulator's OAuth2 as a browser would (redirects followed by hand, cookies carried). */
async function login(world: DashboardWorld, userId: string): Promise<string> {
  world.discord.oauth.approveAs(userId);
  const start = await fetch(`${world.url}/auth/login`, { redirect: 'manual' });
  const loginCookie = (start.headers.get('set-cookie') ?? '').split(';', 1)[0] ?? '';
  const authorize = await fetch(start.headers.get('location') ?? '', { redirect: 'manual' });
  const callback = await fetch(authorize.headers.get('location') ?? '', { redirect: 'manual', headers: { cookie: loginCookie } });
  const session = callback.headers.getSetCookie().find((c) => c.startsWith('recap_session='));
  if (session === undefined) throw new Error(`login failed: callback answered ${callback.status}`);
  return session.split(';', 1)[0] ?? '';
}

async function serverTimes(url: string, cookie: string, runs: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < runs + 20; i++) {
    const response = await fetch(url, { headers: { cookie } });
    const body = await response.text();
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${body.slice(0, 200)}`);
    const dur = /page;dur=([\d.]+)/.exec(response.headers.get('server-timing') ?? '')?.[1];
    // The first 20 warm up the JIT, the pools and the prompt cache.
    if (i >= 20 && dur !== undefined) samples.push(Number(dur));
  }
  return samples;
}

async function dashboardPage(bench: BenchWorld): Promise<void> {
  const samples = await serverTimes(`${bench.world.url}/guilds/${bench.world.guild.id}`, bench.adminCookie, bench.runs);
  report('dashboard-page-p95', quantile(samples, 0.95), 'ms');
  // The median shows the page's own cost when the machine is shared and the tail is other processes'.
  report('dashboard-page-p50', quantile(samples, 0.5), 'ms');
}

export async function run(args: string[]): Promise<void> {
  const at = args.indexOf('--runs');
  const runs = at >= 0 ? Number(args[at + 1]) : 200;
  const database = await openMemoryDatabase();
  const world = await startDashboardWorld(database);
  try {
    const now = Date.now();
    const channels = [world.general.id, world.staff.id];
    await seedSummaries(
      database.db,
      Array.from({ length: SUMMARIES }, (_, i) => ({
        guildId: world.guild.id,
        channelId: channels[i % 2] as string,
        text: `Summary ${i}: decisions and open questions [1].`,
        createdAt: new Date(now - i * 13 * 60_000),
        citations: [{ ref: 1, messageId: String(1_000 + i), jumpUrl: `https://discord.com/channels/${world.guild.id}/${channels[i % 2]}/${1_000 + i}` }],
      })),
    );
    await seedUsage(database.db, world.guild.id, now, USAGE_DAYS, CALLS_PER_DAY);
    const bench: BenchWorld = { world, adminCookie: await login(world, world.admin.id), runs };
    for (const figure of FIGURES) await figure(bench);
  } finally {
    await world.close();
    await database.close();
  }
}
