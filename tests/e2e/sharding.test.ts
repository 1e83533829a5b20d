/**
 * SHARDS end to end: `npm start` with SHARDS=2 against the Discord emulator.
 * The manager process serves HTTP (health, metrics, webhooks); discord.js's
 * ShardingManager starts one child process per shard, each a whole app on
 * the shared Postgres with HTTP off. Guilds sit on both shards.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { commands } from '../../src/discord/commands/index.ts';
import { registerCommands } from '../../src/discord/register.ts';
import { mergeProcessMetrics } from '../../src/sharding/merge-metrics.ts';
import type { InteractionHandle, StoredChannel, StoredGuild, StoredUser } from '../emulators/discord/server.ts';
import { shardOfGuild } from '../emulators/discord/snowflake.ts';
import { spawnBotProcess, startE2E, type E2E, type LogLine } from './harness.ts';

const WAIT_MS = 20_000;
const postgresUrl = inject('postgresUrl');

describe("merging the processes' metrics", () => {
  async function processRegistry(observations: number): Promise<Registry> {
    const registry = new Registry();
    const counter = new Counter({ name: 'recap_things_total', help: 'things', labelNames: ['kind'], registers: [registry] });
    const gauge = new Gauge({ name: 'recap_held_bytes', help: 'held', registers: [registry] });
    const histogram = new Histogram({ name: 'recap_step_seconds', help: 'step', buckets: [0.1, 1], registers: [registry] });
    counter.labels('a').inc(observations);
    gauge.set(observations * 100);
    for (let i = 0; i < observations; i++) histogram.observe(0.05);
    return registry;
  }

  it('sums counters and histograms, keeps each process its own gauge series, and says which shard answered', async () => {
    const merged = mergeProcessMetrics([
      { process: 'manager', metrics: await (await processRegistry(1)).getMetricsAsJSON() },
      { process: '0', metrics: await (await processRegistry(2)).getMetricsAsJSON() },
      { process: '1', metrics: await (await processRegistry(4)).getMetricsAsJSON() },
      { process: '2', metrics: undefined },
    ]);
    const text = await merged.metrics();
    expect(text).toContain('recap_things_total{kind="a"} 7');
    expect(text).toContain('recap_step_seconds_bucket{le="0.1"} 7');
    expect(text).toContain('recap_step_seconds_count 7');
    for (const [shard, value] of [['manager', 100], ['0', 200], ['1', 400]] as const) expect(text).toContain(`recap_held_bytes{shard="${shard}"} ${value}`);
    expect(text).not.toMatch(/^recap_held_bytes \d/m);
    expect(text).toContain('recap_shard_up{shard="0"} 1');
    expect(text).toContain('recap_shard_up{shard="1"} 1');
    expect(text).toContain('recap_shard_up{shard="2"} 0');
    expect(text).not.toContain('recap_shard_up{shard="manager"}');
  });
});

describe('SHARDS=auto|<n> needs a shared Postgres', () => {
  it('refuses an embedded PGlite database with one clear line', async () => {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !key.startsWith('VITEST')) env[key] = value;
    const bot = spawnBotProcess({ ...env, NODE_OPTIONS: '', SHARDS: '2', DISCORD_TOKEN: 'token', DATABASE_URL: '', DATA_DIR: join(tmpdir(), 'recap-e2e-sharding-never-created'), LOG_FORMAT: 'json' });
    const exit = await bot.exited;
    expect(exit.code).toBe(1);
    const printed = bot.lines.filter((l) => l.raw.trim() !== '');
    expect(printed.map((l) => l.raw)).toEqual([
      'recap-bot: configuration: SHARDS: needs DATABASE_URL (a Postgres server the shard processes share); the embedded PGlite database belongs to one process',
    ]);
  });
});

describe.skipIf(postgresUrl === '')(`SHARDS=2 end to end${postgresUrl === '' ? ` [skipped: no Postgres, ${inject('postgresSkipReason')}]` : ''}`, () => {
  let e2e: E2E;
  let http: string;
  const other: { guild?: StoredGuild; admin?: StoredUser; channel?: StoredChannel } = {};

  beforeAll(async () => {
    e2e = await startE2E({
      env: { SHARDS: '2', SHARD_SPAWN_DELAY_MS: '0' },
      discord: { maxConcurrency: 2 },
      startTimeoutMs: 80_000,
      setup(discord, world) {
        // The world's guild is on one shard; this one on the other.
        const shard = 1 - shardOfGuild(world.guild.id, 2);
        other.guild = discord.addGuild({ name: 'second-guild', shard: { id: shard, count: 2 } });
        other.admin = discord.addUser({ username: 'second-admin' });
        discord.addMember(other.guild.id, other.admin.id, { permissions: ['ManageGuild'] });
        other.channel = discord.addChannel(other.guild.id, { kind: 'text', name: 'lobby' });
      },
    });
    http = await e2e.bot.ready();
    // The bot registers to DISCORD_DEV_GUILD_ID only; the second guild uses the global commands,
    // as an operator registers them with `npm run recap -- commands register`.
    await registerCommands({ token: e2e.env['DISCORD_TOKEN']!, applicationId: e2e.discord.applicationId, apiUrl: e2e.discord.apiUrl }, commands);
  }, 90_000);

  afterAll(async () => {
    await e2e?.close();
  });

  const connectedLines = (): LogLine[] => e2e.bot.lines.filter((l) => l.msg === 'connected to Discord');

  it('starts one process per shard, each identifying with its own shard id', async () => {
    const sessions = await e2e.discord.waitForSessions(2, WAIT_MS);
    expect(sessions.map((s) => [...s.shard]).sort()).toEqual([
      [0, 2],
      [1, 2],
    ]);
    // Each shard got the guilds of its shard only.
    for (const session of sessions) {
      expect(session.initialGuildIds.every((id) => shardOfGuild(id, 2) === session.shard[0])).toBe(true);
    }
    const connected = connectedLines();
    expect(connected.map((l) => l.json?.['shard']).sort()).toEqual([0, 1]);
    const pids = new Set(connected.map((l) => l.json?.['pid']));
    expect(pids.size).toBe(2);
    expect(pids.has(e2e.bot.pid)).toBe(false);
    // One registration for the deployment, by shard 0.
    const registrations = e2e.discord.requests.filter((r) => r.method === 'PUT' && r.path.endsWith(`/guilds/${e2e.world.guild.id}/commands`));
    expect(registrations).toHaveLength(1);
    const running = e2e.bot.lines.find((l) => l.msg === 'recap-bot is running');
    expect(running?.json?.['shards']).toBe(2);
    expect(running?.json?.['pid']).toBe(e2e.bot.pid);
  });

  it('answers a command in a guild of each shard', async () => {
    const first = await e2e.runCommand(e2e.world.admin.id, 'prompt-config', { subcommand: 'test' }, WAIT_MS);
    expect(first.reply.embeds[0]?.title).toBe('Prompt resolution: level default');
    expect(renderedPrompt(first.handle)).toContain('general');

    const handle = e2e.discord.sendInteraction({
      type: 'command',
      userId: other.admin!.id,
      name: 'prompt-config',
      subcommand: 'test',
      channelId: other.channel!.id,
    });
    const second = await handle.waitForFinal(() => true, WAIT_MS);
    expect(second.embeds[0]?.title).toBe('Prompt resolution: level default');
    expect(renderedPrompt(handle)).toContain('lobby');

    // Each went to the one session of its guild's shard, so that shard's process answered it.
    const receivers = (id: string) =>
      e2e.discord.gateway.sessions.filter((s) => s.dispatched.some((d) => d.t === 'INTERACTION_CREATE' && (d.d as { id?: string }).id === id)).map((s) => s.shard[0]);
    expect(receivers(first.handle.id)).toEqual([shardOfGuild(e2e.world.guild.id, 2)]);
    expect(receivers(handle.id)).toEqual([shardOfGuild(other.guild!.id, 2)]);
    expect(e2e.unanswered()).toEqual([]);
  });

  it("the manager's /metrics has both shards: counters summed, per-process gauges labelled by shard", async () => {
    const res = await fetch(`${http}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('recap_shard_up{shard="0"} 1');
    expect(text).toContain('recap_shard_up{shard="1"} 1');
    // One resolution on each shard, one series for the deployment.
    expect(text).toMatch(/^recap_prompt_resolutions_total\{level="default"\} 2$/m);
    for (const shard of ['0', '1', 'manager']) {
      expect(text).toMatch(new RegExp(`^process_resident_memory_bytes\\{shard="${shard}"\\} \\d+`, 'm'));
      expect(text).toMatch(new RegExp(`^recap_prompt_snapshot_bytes\\{shard="${shard}"\\} \\d+`, 'm'));
    }
    // Every sample line is valid exposition text (name, optional labels, a number).
    for (const line of text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))) {
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? ([-+0-9.eE]+|NaN|[+-]Inf)$/);
    }
  });

  it('/healthz and /readyz answer from the manager', async () => {
    const health = await fetch(`${http}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${http}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { database: 'ok' } });
  });

  it('a shard process that dies is started again, and answers again', async () => {
    const shard = shardOfGuild(other.guild!.id, 2);
    const before = connectedLines().filter((l) => l.json?.['shard'] === shard);
    expect(before).toHaveLength(1);
    process.kill(before[0]!.json?.['pid'] as number, 'SIGKILL');
    await e2e.bot.waitForLog((l) => l.msg === 'a shard process exited; starting it again' && l.json?.['shard'] === shard, WAIT_MS);
    await e2e.bot.waitForLog((l) => l.msg === 'connected to Discord' && l.json?.['shard'] === shard && l !== before[0], 60_000);
    const reply = await e2e.discord
      .sendInteraction({ type: 'command', userId: other.admin!.id, name: 'prompt-config', subcommand: 'test', channelId: other.channel!.id })
      .waitForFinal(() => true, WAIT_MS);
    expect(reply.embeds[0]?.title).toBe('Prompt resolution: level default');
  }, 90_000);

  it('SIGTERM to the manager stops every shard gracefully, and the manager exits 0', async () => {
    const shardPids = connectedLines().map((l) => l.json?.['pid'] as number);
    const exit = await e2e.bot.stop(30_000);
    expect(exit).toEqual({ code: 0, signal: null });
    const stopped = e2e.bot.lines.filter((l) => l.msg === 'stopped');
    expect(stopped.map((l) => l.json?.['shard'] ?? 'manager').sort()).toEqual([0, 1, 'manager']);
    for (const pid of shardPids) expect(alive(pid)).toBe(false);
    expect(e2e.bot.linesAtLeast(50)).toEqual([]);
  });
});

/** The rendered prompt `/prompt-config test` showed: inline, or as prompt.md when long. */
function renderedPrompt(handle: InteractionHandle): string {
  const file = handle.files.find((f) => f.filename === 'prompt.md');
  return file === undefined ? (handle.original?.content ?? '') : file.content.toString('utf8');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(postgresUrl === '')('SHARDS=auto: the shard processes do not outlive the manager', () => {
  let e2e: E2E | undefined;
  afterAll(async () => {
    await e2e?.close();
  });

  it('starts the recommended number of shards, which stop by themselves when the manager is killed', async () => {
    // auto: as many as Discord's /gateway/bot recommends, asked through DISCORD_API_URL.
    e2e = await startE2E({ env: { SHARDS: 'auto', SHARD_SPAWN_DELAY_MS: '0' }, discord: { maxConcurrency: 2, recommendedShards: 2 }, startTimeoutMs: 80_000 });
    await e2e.bot.ready();
    expect(e2e.bot.lines.find((l) => l.msg === 'recap-bot is running')?.json?.['shards']).toBe(2);
    await e2e.discord.waitForSessions(2, WAIT_MS);
    // A shard logs its connection after the emulator counted its session: wait for both lines.
    const connected = (): number[] => e2e!.bot.lines.filter((l) => l.msg === 'connected to Discord').map((l) => l.json?.['pid'] as number);
    const connectDeadline = Date.now() + WAIT_MS;
    while (connected().length < 2 && Date.now() < connectDeadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const pids = connected();
    expect(pids).toHaveLength(2);
    e2e.bot.kill();
    await e2e.bot.exited;
    // The shards still write to the pipe the manager left them.
    const stopped = () => e2e!.bot.lines.filter((l) => l.msg === 'stopped').map((l) => l.json?.['shard']);
    const deadline = Date.now() + WAIT_MS;
    while ((pids.some(alive) || stopped().length < 2) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(pids.filter(alive)).toEqual([]);
    expect(stopped().sort()).toEqual([0, 1]);
    expect(e2e.bot.lines.filter((l) => l.json?.['signal'] === 'the shard manager is gone')).toHaveLength(2);
    expect(e2e.bot.linesAtLeast(50)).toEqual([]);
  }, 90_000);
});
