/**
 * The summary-webhook plugin: loaded by the real plugin host from the
 * repository's plugins folder (settings checked at start-up), and driven by
 * the real summarizer through the hook seam, delivering to a real HTTPS
 * receiver on 127.0.0.1 reached as `hooks.test` through the delivery's
 * test-only option (the only way past the address policy).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { prepareConversation } from '../../src/conversation/prepare.ts';
import type { Database } from '../../src/db/schema.ts';
import { createPluginHooks } from '../../src/hooks/plugin-hooks.ts';
import { PluginHost } from '../../src/llm/plugin-host/host.ts';
import { parseManifest } from '../../src/llm/plugin-host/manifest.ts';
import { PluginConfigError } from '../../src/llm/plugin-host/problems.ts';
import type { PluginContext, PluginInstance, PluginLogger } from '../../src/llm/plugin-host/types.ts';
import { DEFAULT_PLUGINS_DIR } from '../../src/llm/service.ts';
import type { AdminNotice } from '../../src/notices/admin-notice.ts';
import { webhookPayload } from '../../src/outgoing-webhooks/formats.ts';
import { systemClock } from '../../src/resilience/clock.ts';
import { KyselySummaryStore } from '../../src/summaries/store.ts';
import { createSummarizer } from '../../src/summaries/summarize.ts';
import { createSummaryWebhook } from '../../plugins/summary-webhook/index.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { makeCertificate, RECEIVER_HOST, startHttpsReceiver, type HttpsReceiver } from '../helpers/https-receiver.ts';
import { rejectionOf } from '../helpers/thrown.ts';
import { CHANNEL, EchoProvider, GUILD, bundledResolver, conversationOf, messageAt, quietLogger, testRouter } from '../summaries/support.ts';

const TOKEN = 'hook-secret-token-abc123';

function recordingLogger(): PluginLogger & { lines: string[] } {
  const lines: string[] = [];
  const push = (obj: object, msg?: string) => void lines.push(`${msg ?? ''} ${JSON.stringify(obj)}`);
  return { lines, debug: push, info: push, warn: push, error: push };
}

describe('summary-webhook settings at start-up', () => {
  let dir: string;
  const hosts: PluginHost[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'summary-webhook-'));
  });
  afterAll(async () => {
    for (const host of hosts.splice(0)) await host.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function start(yaml: string, env: Record<string, string> = {}): Promise<PluginHost> {
    const configPath = path.join(dir, 'plugins.yaml');
    await writeFile(configPath, yaml);
    const host = await PluginHost.start({ pluginsDir: DEFAULT_PLUGINS_DIR, env, logger: quietLogger, configPath, displayRoot: dir });
    hosts.push(host);
    return host;
  }

  it('loads with host API 1.1 and offers its summary.after hook', async () => {
    const host = await start(['plugins:', '  summary-webhook:', '    config:', '      targets:', '        - { url: "${HOOK_URL}", format: slack }', ''].join('\n'), {
      HOOK_URL: `https://hooks.slack.example/services/${TOKEN}`,
    });
    const status = (await host.statuses()).find((s) => s.name === 'summary-webhook');
    expect(status).toMatchObject({ state: 'active', kind: 'hooks', version: '1.0.0' });
    expect(host.hookEntries().map((e) => [e.plugin, typeof e.hooks['summary.after']])).toEqual([['summary-webhook', 'function']]);
  });

  it.each([
    ['http://hooks.example/x', 'plugins.yaml:5: summary-webhook: targets.0.url: the webhook URL must use https (got http)'],
    ['https://10.0.0.8/x', 'plugins.yaml:5: summary-webhook: targets.0.url: the webhook URL names 10.0.0.8, a private address; only public addresses are allowed'],
    ['https://[::ffff:127.0.0.1]/x', 'plugins.yaml:5: summary-webhook: targets.0.url: the webhook URL names 127.0.0.1, a loopback address; only public addresses are allowed'],
  ])('refuses the target %s at start-up, naming the line', async (url, message) => {
    const error = await rejectionOf(
      start(['plugins:', '  summary-webhook:', '    config:', '      targets:', `        - { url: "${url}/${TOKEN}" }`, ''].join('\n')),
      (e): e is PluginConfigError => e instanceof PluginConfigError,
    );
    expect(error.message).toBe(message);
    expect(error.message).not.toContain(TOKEN);
  });

  it('has no setting that lets loopback or another CA in: the test-only switch is not configurable', async () => {
    for (const setting of ['unsafe_test_only: { allow_loopback: true }', 'allow_loopback: true', 'ca: "-----BEGIN CERTIFICATE-----"']) {
      const error = await rejectionOf(
        start(['plugins:', '  summary-webhook:', '    config:', `      ${setting}`, ''].join('\n')),
        (e): e is PluginConfigError => e instanceof PluginConfigError,
      );
      expect(error.message).toMatch(/^plugins\.yaml:4:\d+: .*summary-webhook.*unknown setting/);
    }
  });

  it('is switched on by SUMMARY_WEBHOOK_URL alone, and refuses a bad one by the variable\'s name', async () => {
    const host = await start('plugins: {}\n', { SUMMARY_WEBHOOK_URL: `https://discord.com/api/webhooks/1/${TOKEN}` });
    expect((await host.statuses()).find((s) => s.name === 'summary-webhook')?.state).toBe('active');
    const error = await rejectionOf(start('plugins: {}\n', { SUMMARY_WEBHOOK_URL: `http://discord.com/api/webhooks/1/${TOKEN}` }), (e): e is PluginConfigError => e instanceof PluginConfigError);
    expect(error.message).toBe('plugins.yaml:1: summary-webhook: SUMMARY_WEBHOOK_URL: the webhook URL must use https (got http)');
  });
});

describe('webhook formats', () => {
  const message = {
    title: 'Summary of #dev-chat (Test Guild)',
    body: '- @everyone ship it <!channel> & <https://evil.example|click> [1]',
    links: [{ label: '[1]', url: 'https://discord.com/channels/1/2/3' }, { label: '[2]', url: 'javascript:alert(1)' }],
    footer: 'brief · general',
    timestamp: '2026-12-06T12:00:00.000Z',
  };

  it('writes Discord messages that ping nobody', () => {
    expect(webhookPayload('discord', message)).toEqual({
      content: 'Summary of #dev-chat (Test Guild)',
      embeds: [
        {
          title: 'Summary of #dev-chat (Test Guild)',
          description: '- @everyone ship it <!channel> & <https://evil.example|click> [1]\n\n[1] → https://discord.com/channels/1/2/3',
          footer: { text: 'brief · general' },
          timestamp: '2026-12-06T12:00:00.000Z',
        },
      ],
      allowed_mentions: { parse: [] },
    });
  });

  it('writes Slack messages with the text escaped, so it cannot mention a channel or forge a link', () => {
    expect(webhookPayload('slack', message)).toEqual({
      text: 'Summary of #dev-chat (Test Guild)',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Summary of #dev-chat (Test Guild)' } },
        {
          type: 'section',
          text: { type: 'mrkdwn', text: '- @everyone ship it &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt; [1]\n\n<https://discord.com/channels/1/2/3|[1]>' },
        },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'brief · general' }] },
      ],
    });
  });

  it('cuts long text to each format\'s limits, saying so', () => {
    const long = { title: 't'.repeat(400), body: 'line of the summary\n'.repeat(3_000) };
    const discord = webhookPayload('discord', long) as { content: string; embeds: Array<{ title: string; description: string }> };
    expect([...discord.embeds[0]!.title].length).toBe(256);
    expect([...discord.embeds[0]!.description].length).toBeLessThanOrEqual(4_096);
    expect(discord.embeds[0]!.description.endsWith('… (cut to fit the webhook)')).toBe(true);
    const slack = webhookPayload('slack', long) as { blocks: Array<{ type: string; text?: { text: string } }> };
    const sections = slack.blocks.filter((b) => b.type === 'section');
    expect(sections.length).toBeLessThanOrEqual(11);
    for (const section of sections) expect([...section.text!.text].length).toBeLessThanOrEqual(3_000);
    expect([...slack.blocks[0]!.text!.text].length).toBe(150);
  });
});

describeEachDatabase('summary-webhook delivering finished summaries', (database) => {
  let db: Kysely<Database>;
  let manifest: PluginContext['manifest'];
  let certificate: { key: Buffer; cert: Buffer };
  let receiver: HttpsReceiver;
  let instance: PluginInstance | undefined;
  let seq = 0;

  beforeAll(async () => {
    db = database().handle.db;
    const file = path.join(DEFAULT_PLUGINS_DIR, 'summary-webhook', 'plugin.yaml');
    const parsed = parseManifest(await readFile(file, 'utf8'), file, 'summary-webhook');
    if (!parsed.ok) throw new Error('the summary-webhook manifest does not parse');
    manifest = parsed.manifest;
    certificate = await makeCertificate();
  });
  afterEach(async () => {
    await instance?.close?.();
    instance = undefined;
    await receiver?.close();
  });

  async function setUp(config: Record<string, unknown>) {
    receiver = await startHttpsReceiver(certificate);
    // Targets name the port as PORT: it is known only now.
    const targets = ((config.targets ?? []) as Array<{ url: string }>).map((t) => ({ ...t, url: t.url.replace('PORT', String(receiver.port)) }));
    const notices: AdminNotice[] = [];
    const logger = recordingLogger();
    instance = createSummaryWebhook(
      {
        manifest,
        config: { backoff_base_ms: 0, backoff_max_ms: 0, ...config, targets },
        secret: () => undefined,
        logger,
        notices: { post: async (notice) => void notices.push(notice) },
      },
      {
        resolve: async () => [{ address: '127.0.0.1', family: 4 }],
        unsafeTestOnly: { ca: receiver.ca, allowLoopback: true },
      },
    );
    if (instance.kind !== 'hooks') throw new Error('expected hooks');
    const pluginHooks = instance.hooks;
    const hooks = createPluginHooks({ entries: () => [{ plugin: 'summary-webhook', hooks: pluginHooks }], logger: quietLogger });
    const provider = new EchoProvider('echo', 'echo-large', 100_000);
    const routing = testRouter([provider], [{ provider: 'echo', model: 'echo-large' }]);
    const summarizer = createSummarizer({
      resolver: await bundledResolver(db),
      router: routing.router,
      contextWindowFor: routing.contextWindowFor,
      store: new KyselySummaryStore(db),
      clock: systemClock,
      logger: quietLogger,
      hooks,
    });
    const summarize = (channelId = CHANNEL, guildId = GUILD) =>
      summarizer.summarize(prepareConversation(conversationOf([messageAt(1, 'is the release ready?'), messageAt(2, 'tests are green, we ship friday')])), {
        guildId, guildName: 'Test Guild', channelId, channelName: 'dev-chat', type: 'brief', correlationId: `webhook${++seq}`,
      });
    return { notices, logger, summarize };
  }

  it('sends a finished summary in Discord and Slack form, without waiting for the delivery', async () => {
    const { summarize } = await setUp({
      targets: [
        { url: `https://${RECEIVER_HOST}:PORT/api/webhooks/1/${TOKEN}`, format: 'discord' },
        { url: `https://${RECEIVER_HOST}:PORT/services/${TOKEN}`, format: 'slack', guilds: [GUILD] },
        { url: `https://${RECEIVER_HOST}:PORT/other-guild`, guilds: ['123'] },
        { url: `https://${RECEIVER_HOST}:PORT/other-channel`, guilds: [GUILD], channels: ['456'] },
      ],
    });
    const result = await summarize(`${CHANNEL}1`);
    await receiver.waitFor(2);
    const byPath = Object.fromEntries(receiver.received.map((r) => [r.url, JSON.parse(r.body) as Record<string, unknown>]));
    expect(Object.keys(byPath).sort()).toEqual([`/api/webhooks/1/${TOKEN}`, `/services/${TOKEN}`]);

    const discord = byPath[`/api/webhooks/1/${TOKEN}`] as { content: string; embeds: Array<{ description: string; footer: { text: string } }>; allowed_mentions: unknown };
    expect(discord.content).toBe('Summary of #dev-chat (Test Guild)');
    expect(discord.allowed_mentions).toEqual({ parse: [] });
    const jump = result.citations[0]!.jumpUrl!;
    expect(discord.embeds[0]!.description).toContain(`[[1]](${jump})`);
    expect(discord.embeds[0]!.footer.text).toMatch(/^brief · general · 2 messages · echo\/echo-large · bundled@[0-9a-f]{7}:summaries\/discussion\/brief\.md$/);

    const slack = byPath[`/services/${TOKEN}`] as { text: string; blocks: Array<{ type: string; text?: { text: string } }> };
    expect(slack.text).toBe('Summary of #dev-chat (Test Guild)');
    expect(slack.blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
    expect(slack.blocks[1]!.text!.text).toBe(`${result.text}\n\n<${jump}|[1]>\n<${result.citations[1]!.jumpUrl}|[2]>`);
  });

  it('does not send a summary answered from storage again', async () => {
    const { summarize } = await setUp({ targets: [{ url: `https://${RECEIVER_HOST}:PORT/x` }] });
    await summarize(`${CHANNEL}2`);
    await receiver.waitFor(1);
    const reused = await summarize(`${CHANNEL}2`);
    expect(reused.reused).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receiver.received).toHaveLength(1);
  });

  it('tells the guild\'s admins when a delivery is given up, naming only the host', async () => {
    const { summarize, notices, logger } = await setUp({ max_attempts: 2, targets: [{ url: `https://${RECEIVER_HOST}:PORT/api/webhooks/1/${TOKEN}` }] });
    receiver.replies.push({ status: 500 }, { status: 500 });
    await summarize(`${CHANNEL}3`);
    await receiver.waitFor(2);
    for (let i = 0; i < 50 && notices.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(notices).toEqual([
      {
        guildId: GUILD,
        kind: 'webhook-given-up',
        cause: `summary-webhook:0:${RECEIVER_HOST}`,
        title: `A summary could not be delivered to the webhook at ${RECEIVER_HOST}`,
        lines: [`The summary of #dev-chat was not delivered: gave up after 2 attempts: ${RECEIVER_HOST} answered 500.`, 'Later summaries are still sent; this one is not retried.'],
      },
    ]);
    expect(JSON.stringify(notices)).not.toContain(TOKEN);
    expect(logger.lines.join('\n')).not.toContain(TOKEN);
    expect(logger.lines.some((l) => l.startsWith('summary webhook delivery given up'))).toBe(true);
  });

  it('bounds the deliveries one guild holds in flight, leaving room for the others', async () => {
    // max_pending 10: one guild may hold one delivery at a time.
    const { summarize, logger } = await setUp({ max_pending: 10, timeout_ms: 60_000, targets: [{ url: `https://${RECEIVER_HOST}:PORT/slow` }] });
    receiver.replies.push('hang');
    await summarize(`${CHANNEL}5`);
    await receiver.waitFor(1);
    await summarize(`${CHANNEL}6`);
    expect(logger.lines.filter((l) => l.startsWith('too many webhook deliveries in flight'))).toHaveLength(1);
    await summarize(`${CHANNEL}7`, '700000000000000099');
    await receiver.waitFor(2);
    expect(receiver.received.map((r) => r.url)).toEqual(['/slow', '/slow']);
  });

  it('cancels deliveries still in flight when the plugin closes', async () => {
    const { summarize, notices } = await setUp({ timeout_ms: 60_000, targets: [{ url: `https://${RECEIVER_HOST}:PORT/slow` }] });
    receiver.replies.push('hang');
    await summarize(`${CHANNEL}4`);
    await receiver.waitFor(1);
    const started = Date.now();
    await instance?.close?.();
    instance = undefined;
    // A second of grace, then the delivery is cancelled: no hang, no notice.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(notices).toEqual([]);
  });
});
