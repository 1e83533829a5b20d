/**
 * Hooks plugins as the LLM service wires them: a plugin folder loaded by the
 * real host, its summary/chat hooks run through `service.hooks` (what the
 * summarizer and chat get), its provider-call hooks run by the router under
 * the plugin's name, `ctx.notices` handed through, and the metrics per plugin
 * and hook read from the service's registry.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLlmService, type LlmService } from '../../src/llm/service.ts';
import type { AdminNotice } from '../../src/notices/admin-notice.ts';
import { ManualClock } from '../../src/resilience/clock.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { MemoryLogger, NOON, createVault } from '../llm/support.ts';

const ECHO = path.join(import.meta.dirname, '..', 'plugins', 'fixtures', 'shared', 'echo-provider.ts');

const RECORDER = `
import { appendFile } from 'node:fs/promises';

export default (ctx) => {
  const write = (line) => appendFile(ctx.config.out, JSON.stringify(line) + '\\n');
  return {
    kind: 'hooks',
    hooks: {
      beforeCall: (info) => write({ hook: 'beforeCall', provider: info.provider }),
      'summary.after': async (event) => {
        await write({ hook: 'summary.after', guildId: event.guildId, text: event.text });
        await ctx.notices?.post({ guildId: event.guildId, kind: 'webhook-given-up', cause: 'recorder', title: 'seen', lines: [] });
      },
      'chat.before': () => ({ notes: ['recorded'] }),
    },
  };
};
`;

describeEachDatabase('hooks plugins in the LLM service', (database) => {
  let dir: string;
  let out: string;
  let service: LlmService;
  let metrics: Registry;
  const notices: AdminNotice[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'service-hooks-'));
    out = path.join(dir, 'events.jsonl');
    await mkdir(path.join(dir, 'plugins', 'echo'), { recursive: true });
    await writeFile(path.join(dir, 'plugins', 'echo', 'plugin.yaml'), 'name: echo\nversion: 1.0.0\nkind: provider\nentry: index.ts\n');
    await writeFile(path.join(dir, 'plugins', 'echo', 'index.ts'), `import { echoPlugin } from ${JSON.stringify(ECHO)};\nexport default () => echoPlugin('echo', 'E');\n`);
    await mkdir(path.join(dir, 'plugins', 'recorder'), { recursive: true });
    await writeFile(
      path.join(dir, 'plugins', 'recorder', 'plugin.yaml'),
      'name: recorder\nversion: 1.0.0\nkind: hooks\nentry: index.mjs\nhost: ">=1.1 <2"\nconfig:\n  out: { type: string, required: true }\n',
    );
    await writeFile(path.join(dir, 'plugins', 'recorder', 'index.mjs'), RECORDER);
    const configPath = path.join(dir, 'plugins.yaml');
    await writeFile(
      configPath,
      `router:\n  tasks:\n    summarize: [echo/echo-1]\n    chat: [echo/echo-1]\nplugins:\n  echo: {}\n  recorder:\n    config: { out: ${JSON.stringify(out)} }\n`,
    );
    metrics = new Registry();
    const db = database().handle.db;
    service = await createLlmService({
      env: { LLM_USER_RATE_PER_MIN: '0', LLM_GUILD_RATE_PER_MIN: '0' },
      db,
      vault: await createVault(db),
      logger: new MemoryLogger(),
      metrics,
      clock: new ManualClock(NOON),
      pluginsDir: path.join(dir, 'plugins'),
      configPath,
      displayRoot: dir,
      notices: { post: async (notice) => void notices.push(notice) },
    });
  });

  afterAll(async () => {
    await service?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function events(): Promise<object[]> {
    return (await readFile(out, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as object);
  }

  async function runs(): Promise<Array<{ labels: object; value: number }>> {
    return (await metrics.getSingleMetric('recap_plugin_hook_runs_total')!.get()).values.map((v) => ({ labels: v.labels, value: v.value }));
  }

  it('runs the plugin\'s hooks at the hook points and around provider calls, under its name, with ctx.notices', async () => {
    const answer = await service.router.generate(
      { system: 's', turns: [{ role: 'user', content: 'hi' }], maxTokens: 10 },
      { task: 'chat', guildId: '42', correlationId: 'svc1' },
    );
    expect(answer.text).toBe('E:hi');
    expect(await service.hooks.run('chat.before', { guildId: '42', channelId: '1', userId: '2', question: 'q', correlationId: 'svc2' })).toEqual({ notes: ['recorded'], append: [] });
    await service.hooks.run('summary.after', {
      guildId: '42', guildName: null, channelId: '1', channelName: 'general', summaryId: null, text: 'the summary', citations: [], type: 'brief', perspective: 'general',
      locale: null, provider: 'echo', model: 'echo-1', messages: 1, chunks: 1, costUsd: 0, reused: false,
      prompt: { level: 'default', repo: 'bundled', commit: null, path: null }, warnings: [], userId: null, correlationId: 'svc3', finishedAt: new Date(NOON).toISOString(),
    });

    expect(await events()).toEqual([
      { hook: 'beforeCall', provider: 'echo' },
      { hook: 'summary.after', guildId: '42', text: 'the summary' },
    ]);
    expect(notices).toEqual([{ guildId: '42', kind: 'webhook-given-up', cause: 'recorder', title: 'seen', lines: [] }]);
    expect(await runs()).toEqual([
      { labels: { plugin: 'recorder', hook: 'beforeCall' }, value: 1 },
      { labels: { plugin: 'recorder', hook: 'chat.before' }, value: 1 },
      { labels: { plugin: 'recorder', hook: 'summary.after' }, value: 1 },
    ]);
  });
});
