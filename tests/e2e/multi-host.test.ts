/**
 * Shards across several hosts, end to end on real Postgres: three process
 * groups started as `npm start` starts the service, sharing one database and
 * the Discord and GitHub emulators.
 *
 * - host A: RECAP_ROLE=shards, SHARD_IDS=0-1 of SHARD_COUNT=4 (a manager and two shard processes)
 * - host B: RECAP_ROLE=shards, SHARD_IDS=2-3 of SHARD_COUNT=4
 * - web:    RECAP_ROLE=web, no DISCORD_TOKEN; the only process with the webhook secret
 *
 * Each of the four guilds sits on its own shard. What each process did is
 * read from the outside only: gateway sessions, REST requests, answers, log
 * lines and each host's /metrics.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { InteractionHandle, StoredChannel, StoredGuild } from '../emulators/discord/server.ts';
import { shardOfGuild } from '../emulators/discord/snowflake.ts';
import { WAIT_MS } from '../helpers/discord-messages.ts';
import { postWebhook, pushPayload, WEBHOOK_SECRET } from '../webhooks/helpers.ts';
import { startE2E, type BotProcess, type E2E } from './harness.ts';

const postgresUrl = inject('postgresUrl');
const SHARD_COUNT = 4;
const REPO = 'acme/host-prompts';
const LIVE_WITHIN_MS = 10_000;

const promptFiles = (version: string): Record<string, string> => ({
  PATH: 'prompts/default.md\n',
  'prompts/default.md': `Summarize #{channel} as bullet points. Version marker: HOSTS-MARK-${version}.\n{messages}\n`,
});

/** One guild per shard, with a channel the admin runs commands in. */
interface ShardGuild {
  shard: number;
  guild: StoredGuild;
  channel: StoredChannel;
}

const hostsEnv = { RECAP_ROLE: 'shards', SHARD_COUNT: String(SHARD_COUNT), SHARD_SPAWN_DELAY_MS: '0', GITHUB_WEBHOOK_SECRET: '' };

describe.skipIf(postgresUrl === '')(`two shard hosts and a web process on one Postgres${postgresUrl === '' ? ` [skipped: no Postgres, ${inject('postgresSkipReason')}]` : ''}`, () => {
  let e2e: E2E;
  const guilds: ShardGuild[] = [];
  let hostA: BotProcess;
  let hostB: BotProcess;
  let web: BotProcess;
  const urls: { a: string; b: string; web: string } = { a: '', b: '', web: '' };

  beforeAll(async () => {
    e2e = await startE2E({
      // Host A; unset DISCORD_DEV_GUILD_ID: commands are registered globally, for all four guilds.
      env: { ...hostsEnv, SHARD_IDS: '0-1', DISCORD_DEV_GUILD_ID: '' },
      discord: { maxConcurrency: SHARD_COUNT },
      startTimeoutMs: 150_000,
      setup(discord, world) {
        for (let shard = 0; shard < SHARD_COUNT; shard++) {
          const guild = discord.addGuild({ name: `guild-of-shard-${shard}`, shard: { id: shard, count: SHARD_COUNT } });
          discord.addMember(guild.id, world.admin.id, { permissions: ['ManageGuild'] });
          guilds.push({ shard, guild, channel: discord.addChannel(guild.id, { kind: 'text', name: `lobby-${shard}` }) });
        }
      },
    });
    hostA = e2e.bot;
    urls.a = await hostA.ready();
    hostB = e2e.spawnBot({ SHARD_IDS: '2-3' });
    web = e2e.spawnBot({ RECAP_ROLE: 'web', SHARD_IDS: '', SHARD_COUNT: '', DISCORD_TOKEN: '', GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET });
    [urls.b, urls.web] = await Promise.all([hostB.ready(150_000), web.ready(150_000)]);
    await e2e.discord.waitForSessions(SHARD_COUNT, WAIT_MS);
    // A shard logs its connection after its manager heard it was ready: wait for all four lines.
    const deadline = Date.now() + WAIT_MS;
    while (connectedShards(hostA).length + connectedShards(hostB).length < SHARD_COUNT && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    e2e.github.createRepo(REPO, { files: promptFiles('v1') });
  }, 240_000);

  afterAll(async () => {
    await e2e?.close();
  }, 60_000);

  /** The shard ids whose processes logged "connected to Discord" through `host` (a manager relays its children's output). */
  const connectedShards = (host: BotProcess): number[] =>
    host.lines
      .filter((l) => l.msg === 'connected to Discord')
      .map((l) => l.json?.['shard'] as number)
      .sort();

  /** The shard whose gateway session received the interaction. */
  const receivedBy = (handle: InteractionHandle): number[] =>
    e2e.discord.gateway.sessions.filter((s) => s.dispatched.some((d) => d.t === 'INTERACTION_CREATE' && (d.d as { id?: string }).id === handle.id)).map((s) => s.shard[0]);

  const hostOf = (shard: number): BotProcess => (shard < 2 ? hostA : hostB);

  it('each host runs its range of the fixed total; the web process connects to Discord not at all', () => {
    const sessions = e2e.discord.gateway.sessions;
    expect(sessions.map((s) => [...s.shard]).sort()).toEqual([0, 1, 2, 3].map((id) => [id, SHARD_COUNT]));
    for (const session of sessions) expect(session.initialGuildIds.every((id) => shardOfGuild(id, SHARD_COUNT) === session.shard[0])).toBe(true);
    expect(connectedShards(hostA)).toEqual([0, 1]);
    expect(connectedShards(hostB)).toEqual([2, 3]);
    expect(connectedShards(web)).toEqual([]);

    const running = (host: BotProcess) => host.lines.find((l) => l.msg === 'recap-bot is running')?.json;
    expect(running(hostA)).toMatchObject({ role: 'shards', shards: 2, shardIds: [0, 1], of: SHARD_COUNT });
    expect(running(hostB)).toMatchObject({ role: 'shards', shards: 2, shardIds: [2, 3], of: SHARD_COUNT });
    expect(running(web)).toMatchObject({ role: 'web' });
    expect(running(web)?.['shards']).toBeUndefined();
    // Four shard processes, none of them a manager or the web process.
    const shardPids = [hostA, hostB].flatMap((h) => h.lines.filter((l) => l.msg === 'connected to Discord').map((l) => l.json?.['pid']));
    expect(new Set(shardPids).size).toBe(4);
    for (const p of [hostA, hostB, web]) expect(shardPids).not.toContain(p.pid);
  });

  it('commands are registered once for the deployment, by the process of shard 0', () => {
    const registrations = e2e.discord.requests.filter((r) => r.method === 'PUT' && /^\/applications\/\d+(\/guilds\/\d+)?\/commands$/.test(r.path));
    expect(registrations.map((r) => [r.path, r.status])).toEqual([[`/applications/${e2e.discord.applicationId}/commands`, 200]]);
    const registered = [hostA, hostB, web].flatMap((h) => h.lines.filter((l) => l.msg === 'slash commands registered'));
    expect(registered.map((l) => l.json?.['shard'])).toEqual([0]);
    expect(hostA.lines).toContain(registered[0]);
  });

  it('each shard serves its own guilds, and each host counts only its own shards in /metrics', async () => {
    for (const { shard, guild, channel } of guilds) {
      const before = await Promise.all([hostA, hostB].map((h) => resolutions(h === hostA ? urls.a : urls.b)));
      const { handle, reply } = await e2e.runCommand(e2e.world.admin.id, 'prompt-config', { subcommand: 'test', channelId: channel.id }, WAIT_MS);
      expect(reply.embeds[0]?.title).toBe('Prompt resolution: level default');
      expect(renderedPrompt(handle)).toContain(`lobby-${shard}`);
      expect(shardOfGuild(guild.id, SHARD_COUNT)).toBe(shard);
      expect(receivedBy(handle)).toEqual([shard]);
      const after = await Promise.all([hostA, hostB].map((h) => resolutions(h === hostA ? urls.a : urls.b)));
      // The resolution happened on the host that runs the guild's shard, and only there.
      const served = hostOf(shard) === hostA ? 0 : 1;
      expect(after[served]! - before[served]!).toBe(1);
      expect(after[1 - served]).toBe(before[1 - served]);
    }
    expect(e2e.unanswered()).toEqual([]);

    const [a, b, w] = await Promise.all([urls.a, urls.b, urls.web].map((u) => fetch(`${u}/metrics`).then((r) => r.text())));
    expect(shardsUp(a!)).toEqual({ '0': 1, '1': 1 });
    expect(shardsUp(b!)).toEqual({ '2': 1, '3': 1 });
    expect(shardsUp(w!)).toEqual({});
    expect(await resolutions(urls.web)).toBe(0);
  });

  it('a push delivered to the web process goes live on every shard of both hosts', async () => {
    for (const { channel } of guilds) {
      const { reply } = await e2e.runCommand(e2e.world.admin.id, 'prompt-config', { subcommand: 'set', options: { repo_url: REPO }, channelId: channel.id }, WAIT_MS);
      expect(reply.embeds[0]?.title).toBe(`Saved ${REPO}@main`);
    }
    // Every shard's cache holds v1 now.
    for (const { channel } of guilds) expect(await servedMarker(channel)).toBe('HOSTS-MARK-v1');

    const pushed = e2e.github.push(REPO, 'main', promptFiles('v2'));
    // The shard hosts take no webhooks: their port serves health and metrics only.
    for (const url of [urls.a, urls.b]) expect((await postWebhook(url, { event: 'push', body: pushPayload(REPO, { after: pushed }) })).status).toBe(404);
    const started = performance.now();
    const delivered = await postWebhook(urls.web, { event: 'push', body: pushPayload(REPO, { after: pushed }) });
    expect(delivered.status).toBe(202);

    const pending = new Set(guilds);
    while (pending.size > 0) {
      for (const g of [...pending]) if ((await servedMarker(g.channel)) === 'HOSTS-MARK-v2') pending.delete(g);
      if (pending.size === 0) break;
      if (performance.now() - started > LIVE_WITHIN_MS) {
        throw new Error(`shards ${[...pending].map((g) => g.shard).join(', ')} still serve v1 ${LIVE_WITHIN_MS} ms after the push`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const db = await e2e.database.open();
    const row = await db.selectFrom('webhook_deliveries').selectAll().where('delivery_id', '=', delivered.delivery).executeTakeFirst();
    expect(row?.status).toBe('done');
    expect(row?.result).toContain(`push to ${REPO}@main for ${SHARD_COUNT} guild(s)`);
  }, 120_000);

  it('/healthz and /readyz answer on every host', async () => {
    for (const url of [urls.a, urls.b, urls.web]) {
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect(await (await fetch(`${url}/readyz`)).json()).toMatchObject({ status: 'ready' });
    }
  });

  it('a third host given a shard another host runs stops at start-up, naming the holder, and connects nothing', async () => {
    const sessions = e2e.discord.gateway.sessions.length;
    const late = e2e.spawnBot({ SHARD_IDS: '1-2' });
    expect(await late.exited).toEqual({ code: 1, signal: null });
    // One line for the operator (LOG_LEVEL=debug adds the stack below it).
    const printed = late.lines.filter((l) => l.stream === 'stderr' && l.raw.startsWith('recap-bot:')).map((l) => l.raw);
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(
      new RegExp(
        `^recap-bot: configuration: SHARD_IDS: shards 1, 2 already run in another process of this deployment \\(recap-bot shards on \\S+ pid ${hostA.pid} connected from \\S+ since \\d\\d:\\d\\d UTC\\); give each host its own SHARD_IDS$`,
      ),
    );
    expect(e2e.discord.gateway.sessions).toHaveLength(sessions);
  }, 60_000);

  it('SIGTERM stops each host and its shard processes, each exiting 0', async () => {
    for (const host of [web, hostB, hostA]) expect(await host.stop(30_000)).toEqual({ code: 0, signal: null });
    const stopped = [hostA, hostB].map((h) => h.lines.filter((l) => l.msg === 'stopped').map((l) => l.json?.['shard'] ?? 'manager').map(String).sort());
    expect(stopped).toEqual([
      ['0', '1', 'manager'],
      ['2', '3', 'manager'],
    ]);
    for (const host of [hostA, hostB, web]) expect(host.linesAtLeast(50)).toEqual([]);
    expect(e2e.leaksOf(e2e.env['DISCORD_TOKEN']!)).toEqual([]);
  }, 120_000);

  /** The version marker of the prompt the guild of `channel` is served now, from `/prompt-config test`. */
  async function servedMarker(channel: StoredChannel): Promise<string> {
    const { handle } = await e2e.runCommand(e2e.world.admin.id, 'prompt-config', { subcommand: 'test', channelId: channel.id }, WAIT_MS);
    return /HOSTS-MARK-\w+/.exec(renderedPrompt(handle))?.[0] ?? 'NO-MARK';
  }
});

/** The rendered prompt `/prompt-config test` showed: inline, or as prompt.md when long. */
function renderedPrompt(handle: InteractionHandle): string {
  const file = handle.files.find((f) => f.filename === 'prompt.md');
  return file === undefined ? (handle.original?.content ?? '') : file.content.toString('utf8');
}

/** `recap_shard_up` by shard, from a /metrics text. */
function shardsUp(text: string): Record<string, number> {
  return Object.fromEntries([...text.matchAll(/^recap_shard_up\{shard="(\w+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
}

/** Every prompt resolution a host's /metrics counts (all levels). */
async function resolutions(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return [...text.matchAll(/^recap_prompt_resolutions_total(?:\{[^}]*\})? (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}
