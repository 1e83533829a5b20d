import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { UsageError, type CliContext } from '../../src/cli/command.ts';
import { createSummarizeCommand, summarizeCommand } from '../../src/cli/commands/summarize.ts';
import type { DatabaseHandle } from '../../src/db/database.ts';
import type { EngineRuntime, EngineRuntimeOptions } from '../../src/cli/engine-runtime.ts';
import { loadLocalRepo } from '../../src/prompts/bundled.ts';
import { routedCategories } from '../../src/prompts/routed-values.ts';
import { KyselySummaryStore } from '../../src/summaries/store.ts';
import { createSummarizer } from '../../src/summaries/summarize.ts';
import { systemClock } from '../../src/resilience/clock.ts';
import { createPgliteDatabase, createPostgresDatabase } from '../helpers/databases.ts';
import { GitHubEmulator } from '../emulators/github/server.ts';
import { buildEngine as buildPromptEngine, configureGuild } from '../prompts/engine-helpers.ts';
import { EchoProvider, bundledResolver, quietLogger, testRouter } from './support.ts';

const fixtures = fileURLToPath(new URL('../fixtures/exports/', import.meta.url));

class Capture extends Writable {
  text = '';
  constructor(readonly isTTY = false) {
    super();
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += String(chunk);
    done();
  }
}

describe('recap summarize', () => {
  let handle: DatabaseHandle;
  let provider: EchoProvider;
  const built: EngineRuntimeOptions[] = [];
  let closed = 0;

  beforeAll(async () => {
    handle = await createPgliteDatabase();
  });
  afterAll(async () => {
    await handle.close();
  });

  async function buildDeps(_ctx: CliContext, options: EngineRuntimeOptions): Promise<EngineRuntime> {
    built.push(options);
    provider = new EchoProvider('echo', 'echo-large', 100_000);
    const routing = testRouter([provider], [{ provider: 'echo', model: 'echo-large' }]);
    const summarizer = createSummarizer({
      resolver: await bundledResolver(handle.db),
      router: routing.router,
      contextWindowFor: routing.contextWindowFor,
      store: new KyselySummaryStore(handle.db),
      clock: systemClock,
      logger: quietLogger,
    });
    const bundled = await loadLocalRepo('prompts');
    return { summarizer, routesCategory: async (category) => routedCategories(bundled.repo).includes(category), close: async () => void closed++ };
  }

  async function run(argv: string[], tty = false) {
    const stdout = new Capture();
    const stderr = new Capture(tty);
    const code = await createSummarizeCommand(buildDeps).run({ argv, env: {}, stdout, stderr, cwd: fixtures });
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  it('prints the summary, its citations and one footer line; import warnings go to stderr', async () => {
    const { code, stdout, stderr } = await run(['quirks.json', '--type', 'detailed', '--provider', 'echo']);
    expect(code).toBe(0);
    expect(stderr).toContain('warning: timestamp "2024-03-01T10:12:00" has no time zone; read as UTC\n');
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^- \d+ messages: (\[\d+\])+$/);
    const citations = lines.filter((l) => l.startsWith('['));
    expect(citations.length).toBeGreaterThan(0);
    for (const line of citations) expect(line).toMatch(/^\[\d+\] → https:\/\/discord\.com\/channels\/810000000000000001\/810000000000000002\/\d+$/);
    expect(lines.at(-1)).toMatch(/^prompt: default bundled:summaries\/discussion\/detailed\.md · provider: echo\/echo-large · \d+ messages in 1 chunk · \$0\.\d{4}$/);
    expect(stderr).toContain('summarizing in one call\n');
    expect(built.at(-1)).toEqual({ provider: 'echo' });
    expect(closed).toBeGreaterThan(0);
  });

  it('prints the whole result as JSON with --json, and says when it was reused', async () => {
    const first = await run(['thread.json', '--json', '--perspective', 'developer']);
    expect(first.code).toBe(0);
    const result = JSON.parse(first.stdout) as { citations: Array<{ ref: number; messageId: string }>; reused: boolean; chunks: number };
    expect(result).toMatchObject({ reused: false, chunks: 1 });
    expect(result.citations[0]).toMatchObject({ ref: 1, messageId: '1230000000000000001' });

    const again = await run(['thread.json', '--perspective', 'developer']);
    expect(again.stdout.trimEnd().split('\n').at(-1)).toMatch(/ · \$0\.0000 · reused$/);
  });

  it('draws a progress bar when stderr is a terminal', async () => {
    const { code, stderr } = await run(['quirks.json', '--type', 'comprehensive'], true);
    expect(code).toBe(0);
    expect(stderr).toContain('\r[------------------------] summarizing in one call');
  });

  it('fails with one clear line for an empty conversation or a broken export', async () => {
    const bots = await run(['only-bots.json']);
    expect(bots.code).toBe(1);
    expect(bots.stderr).toMatch(/^recap: error: nothing to summarize: none of the \d+ messages in #\S+ can be summarized \(\d+ from bots\)\n$/);

    const empty = await run(['empty.json']);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toBe('recap: error: nothing to summarize: #dev-chat has no messages in the requested range\n');

    const wrong = await run(['no-messages.json']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^recap: error: no-messages\.json: not a DiscordChatExporter export: this JSON object has no "messages"/);

    const broken = await run(['not-json.json']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^recap: error: not-json\.json: not JSON: byte 0 /);
    expect(broken.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('fails with one line when no language model answers', async () => {
    const failing = createSummarizeCommand(async (ctx, options) => {
      const runtime = await buildDeps(ctx, options);
      provider.failTask('summarize');
      return runtime;
    });
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await failing.run({ argv: ['thread.json', '--type', 'action_items'], env: {}, stdout, stderr, cwd: fixtures });
    expect(code).toBe(1);
    expect(stderr.text).toMatch(/^summarizing in one call\nrecap: error: .*simulated outage.*\n$/);
    expect(stdout.text).toBe('');
  });

  it('treats bad arguments as usage errors', async () => {
    await expect(run([])).rejects.toBeInstanceOf(UsageError);
    await expect(run(['a.json', 'b.json'])).rejects.toThrow(/expected one export file, got 2/);
    await expect(run(['quirks.json', '--since', 'soon'])).rejects.toThrow(/^--since: "soon" is not a duration/);
    await expect(run(['quirks.json', '--limit', '0'])).rejects.toThrow(/--limit must be a whole number from 1 to 200000/);
    await expect(run(['quirks.json', '--type', '../etc'])).rejects.toThrow(/--type must be a word/);
    await expect(run(['quirks.json', '--nope'])).rejects.toBeInstanceOf(UsageError);
  });

  it('applies --since, --limit and --include-bots before summarizing', async () => {
    const limited = await run(['quirks.json', '--limit', '2', '--json', '--type', 'limited']);
    expect(limited.code).toBe(0);
    expect(JSON.parse(limited.stdout)).toMatchObject({ messages: 2 });

    // Counted back from the newest message (10:17, a bot): 10:14 onwards, bots left out.
    const recent = await run(['quirks.json', '--since', '3m', '--json', '--type', 'recent']);
    expect(JSON.parse(recent.stdout)).toMatchObject({ messages: 2 });
    const withBots = await run(['quirks.json', '--since', '3m', '--include-bots', '--json', '--type', 'recent']);
    expect(JSON.parse(withBots.stdout)).toMatchObject({ messages: 4 });
    expect(provider.calls[0]!.refs).toEqual([1, 2, 3, 4]);
  });

  it('says when --limit shortens the --since window, on stderr and in the footer', async () => {
    // 10:14 onwards holds 2 member messages (10:15, 10:16); --limit 1 keeps the newest.
    const cut = await run(['quirks.json', '--since', '3m', '--limit', '1', '--type', 'cut']);
    expect(cut.code).toBe(0);
    const notice = 'The last 3 minutes hold more than 1 message; this covers the newest 1, from 1 Mar 10:16 UTC.';
    expect(cut.stderr).toContain(`note: ${notice}\n`);
    expect(cut.stdout.trimEnd().split('\n').at(-1)).toMatch(new RegExp(` · ${notice.replace(/[.()]/g, '\\$&')}$`));
    const whole = await run(['quirks.json', '--since', '3m', '--limit', '5', '--type', 'cut']);
    expect(whole.stderr).not.toContain('note:');
  });

  it('summarizes the sample export on the offline defaults (no database, bundled prompts, local provider)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'recap-summarize-'));
    const env = { DATA_DIR: dataDir, PROMPTS_DIR: join(process.cwd(), 'prompts') };
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await summarizeCommand.run({ argv: [join(process.cwd(), 'examples/sample-export.json'), '--json'], env, stdout, stderr, cwd: process.cwd() });
    expect(stderr.text).not.toMatch(/error/i);
    expect(code).toBe(0);
    const result = JSON.parse(stdout.text) as { provider: string; prompt: { level: string; path: string }; citations: Array<{ ref: number; messageId: string }>; messages: number };
    expect(result.provider).toBe('local');
    expect(result.prompt).toMatchObject({ level: 'default', path: 'summaries/discussion/brief.md' });
    expect(result.messages).toBeGreaterThan(100);
    expect(result.citations.length).toBeGreaterThan(0);
    for (const c of result.citations) expect(c.messageId).toMatch(/^\d{17,20}$/);
    // Without DATABASE_URL no database is opened: nothing is written under DATA_DIR.
    expect(readdirSync(dataDir)).toEqual([]);
    const again = new Capture();
    expect(await summarizeCommand.run({ argv: [join(process.cwd(), 'examples/sample-export.json'), '--json'], env, stdout: again, stderr: new Capture(), cwd: process.cwd() })).toBe(0);
    expect(JSON.parse(again.text)).toMatchObject({ reused: false, text: (JSON.parse(stdout.text) as { text: string }).text });
    // An unknown provider is a usage error naming the enabled ones.
    const bad = new Capture();
    expect(await summarizeCommand.run({ argv: [join(process.cwd(), 'examples/sample-export.json'), '--provider', 'nope'], env, stdout: new Capture(), stderr: bad, cwd: process.cwd() })).not.toBe(0);
    expect(bad.text).toMatch(/"nope" is not an enabled provider; enabled: .*local/);
  }, 60_000);
});

describe('recap summarize: the export\'s Discord category', () => {
  let dir: string;
  const bundledDir = join(process.cwd(), 'prompts');
  const env: Record<string, string> = { PROMPTS_DIR: bundledDir };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recap-summarize-category-'));
    env.DATA_DIR = dir;
    const quirks = JSON.parse(await readFile(join(fixtures, 'quirks.json'), 'utf8')) as { channel: { category: string } };
    for (const [file, category] of [['meeting.json', 'Meeting!'], ['engineering.json', 'Engineering'], ['stand-up.json', 'Stand-up']] as const) {
      await writeFile(join(dir, file), JSON.stringify({ ...quirks, channel: { ...quirks.channel, category } }));
    }
    // A prompt repository that routes one more category than the bundled prompts.
    await cp(bundledDir, join(dir, 'repo'), { recursive: true });
    await cp(join(dir, 'repo/summaries/meeting'), join(dir, 'repo/summaries/stand-up'), { recursive: true });
  });

  const promptPath = (argv: string[]): Promise<string> => promptPathOf(argv, env, dir);

  it('uses the sanitised category name when the prompts in use route it; --category wins', async () => {
    expect(await promptPath(['meeting.json'])).toBe('summaries/meeting/brief.md');
    expect(await promptPath(['engineering.json'])).toBe('summaries/discussion/brief.md');
    expect(await promptPath(['meeting.json', '--category', 'chat'])).toBe('summaries/chat/brief.md');
    // `stand-up` is routed by the --prompts repository only.
    expect(await promptPath(['stand-up.json'])).toBe('summaries/discussion/brief.md');
    expect(await promptPath(['stand-up.json', '--prompts', 'repo'])).toBe('summaries/stand-up/brief.md');
    expect(await promptPath(['meeting.json', '--prompts', 'repo', '--type', 'detailed'])).toBe('summaries/meeting/detailed.md');
  }, 60_000);
});

describe.skipIf(inject('postgresUrl') === '')('recap summarize with DATABASE_URL [postgres]', () => {
  it('shares the configured database: the same export again is answered from the stored summary', async () => {
    const created = await createPostgresDatabase();
    const dataDir = await mkdtemp(join(tmpdir(), 'recap-summarize-pg-'));
    try {
      const env = { DATA_DIR: dataDir, DATABASE_URL: created.url, PROMPTS_DIR: join(process.cwd(), 'prompts') };
      const run = async () => {
        const stdout = new Capture();
        const stderr = new Capture();
        const code = await summarizeCommand.run({ argv: [join(process.cwd(), 'examples/sample-export.json'), '--json'], env, stdout, stderr, cwd: process.cwd() });
        expect(stderr.text).not.toMatch(/error/i);
        expect(code).toBe(0);
        return JSON.parse(stdout.text) as { reused: boolean; text: string; summaryId: string };
      };
      const first = await run();
      expect(first.reused).toBe(false);
      const again = await run();
      expect(again).toMatchObject({ reused: true, text: first.text, summaryId: first.summaryId });
      const rows = await created.handle.db.selectFrom('summaries').select('id').execute();
      expect(rows).toEqual([{ id: first.summaryId }]);
      // Nothing embedded was opened or cached.
      expect(existsSync(join(dataDir, 'pglite'))).toBe(false);
      expect(existsSync(join(dataDir, 'cache'))).toBe(false);
    } finally {
      await created.drop();
    }
  }, 120_000);

  it("checks the export's Discord category against the guild's prompt repository", async () => {
    const created = await createPostgresDatabase();
    const github = new GitHubEmulator();
    const running = await github.start();
    const dir = await mkdtemp(join(tmpdir(), 'recap-summarize-guild-'));
    try {
      github.createRepo('acme/recaps', {
        files: {
          PATH: ['version: v1', 'routes:', '  category_type: "summaries/{category}/{type}.md"', 'fallback_chain:', '  - category_type', ''].join('\n'),
          'summaries/stand-up/brief.md': 'Stand-up notes for {guild_name}.\n{messages}\n',
          'summaries/default/brief.md': 'Summarize #{channel}.\n{messages}\n',
        },
      });
      // The service saved the repository for the export's guild and holds its snapshot in the shared store.
      const service = await buildPromptEngine(created.handle, { apiUrl: running.baseUrl, clock: systemClock });
      await configureGuild(service.engine, '810000000000000001', 'acme/recaps');
      await service.engine.settle();
      const quirks = JSON.parse(await readFile(join(fixtures, 'quirks.json'), 'utf8')) as { channel: { category: string } };
      await writeFile(join(dir, 'stand-up.json'), JSON.stringify({ ...quirks, channel: { ...quirks.channel, category: 'Stand-up' } }));
      const env = { DATA_DIR: dir, DATABASE_URL: created.url, GITHUB_API_URL: running.baseUrl, PROMPTS_DIR: join(process.cwd(), 'prompts') };
      const promptPath = (argv: string[]): Promise<string> => promptPathOf(argv, env, dir);
      expect(await promptPath(['stand-up.json'])).toBe('summaries/stand-up/brief.md');
      expect(await promptPath(['stand-up.json', '--category', 'retro'])).toBe('summaries/default/brief.md');
    } finally {
      await running.close();
      await created.drop();
    }
  }, 120_000);
});

/** The prompt file `recap summarize` used, from its --json output (offline provider). */
async function promptPathOf(argv: string[], env: Record<string, string>, cwd: string): Promise<string> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await summarizeCommand.run({ argv: [...argv, '--json', '--provider', 'local'], env, stdout, stderr, cwd });
  expect(stderr.text).not.toMatch(/error/i);
  expect(code).toBe(0);
  return (JSON.parse(stdout.text) as { prompt: { path: string } }).prompt.path;
}
