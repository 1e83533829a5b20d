/**
 * `npm run bench -- summarize [--messages n]`: a generated 10,000-message
 * export, imported, prepared and summarized
 *   - with the offline `local` provider (summarize-10k-wall; summarize-10k-rss is
 *     the peak resident memory added by the run, over the baseline of the
 *     process with its embedded PGlite, which is reported separately),
 *   - with an instant in-bench provider, to isolate the engine's own time
 *     (engine-overhead-per-1k, provider time subtracted),
 *   - with a provider taking 500 ms a call and a 32k-token window, which forces
 *     map-reduce, at map concurrency 1 and 4 (map-parallel-speedup).
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'kysely';
import { LOCAL_MODEL, createLocalProvider } from '../plugins/local/provider.ts';
import { importDiscordChatExporter } from '../src/conversation/dce-importer.ts';
import { prepareConversation, type PreparedConversation } from '../src/conversation/prepare.ts';
import { openDatabase, type DatabaseHandle } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { KyselySummaryStore } from '../src/summaries/store.ts';
import { createSummarizer } from '../src/summaries/summarize.ts';
import { createLogger } from '../src/log/logger.ts';
import { loadLocalRepo } from '../src/prompts/bundled.ts';
import { noPromptMetrics } from '../src/prompts/metrics.ts';
import { PromptConfigStore } from '../src/prompts/prompt-config-store.ts';
import { createPromptResolver, type PromptResolver } from '../src/prompts/resolver.ts';
import { SnapshotCache } from '../src/prompts/snapshot-cache.ts';
import { KyselySnapshotStore } from '../src/prompts/snapshot-store.ts';
import { estimateTokens, type GenerateRequest, type GenerateResponse, type Provider } from '../src/llm/provider-spec/contract.ts';
import { systemClock } from '../src/resilience/clock.ts';
import { createRouter } from '../src/llm/router/router.ts';
import { createSpendGuard } from '../src/llm/router/spend-guard.ts';
import { report } from './_report.ts';

const logger = createLogger({ level: 'silent', format: 'json' });
const GUILD = '700000000000000001';
const WORDS = ['release', 'deploy', 'review', 'tests', 'budget', 'schema', 'rollback', 'design', 'latency', 'docs', 'friday', 'migration', 'owner', 'blocked', 'ship', 'bug', 'fix', 'customer', 'metrics', 'plan'];

async function writeExport(path: string, count: number): Promise<void> {
  const out = createWriteStream(path);
  const write = async (text: string): Promise<void> => {
    if (!out.write(text)) await once(out, 'drain');
  };
  await write(JSON.stringify({ guild: { id: GUILD, name: 'Bench Guild', iconUrl: '' }, channel: { id: '700000000000000002', type: 'GuildTextChat', categoryId: '700000000000000003', category: 'Engineering', name: 'busy-channel', topic: null }, dateRange: { after: null, before: null }, exportedAt: '2024-03-08T00:00:00+00:00' }).slice(0, -1));
  await write(',"messages":[');
  const t0 = Date.UTC(2024, 2, 1);
  for (let i = 0; i < count; i++) {
    const author = i % 12;
    const words = Array.from({ length: 8 + (i % 17) }, (_, w) => WORDS[(i * 31 + w * 7) % WORDS.length]).join(' ');
    const message = {
      id: String(1_200_000_000_000_000_000n + BigInt(i)),
      type: 'Default',
      timestamp: new Date(t0 + i * 45_000).toISOString().replace('Z', '+00:00'),
      timestampEdited: null,
      isPinned: false,
      content: `${words} #${i}${i % 9 === 0 ? ' — can someone own this by friday?' : ''}`,
      author: { id: String(100_000_000_000_000_000n + BigInt(author)), name: `member${author}`, discriminator: '0000', nickname: `Member ${author}`, isBot: false, roles: [] },
      attachments: [],
      embeds: [],
      stickers: [],
      reactions: [],
      mentions: [],
    };
    await write(`${i === 0 ? '' : ','}${JSON.stringify(message)}`);
  }
  await write(`],"messageCount":${count}}`);
  out.end();
  await once(out, 'finish');
}

async function openBenchDatabase(): Promise<DatabaseHandle> {
  const handle = await openDatabase({ dataDir: '', poolMax: 1, logger, pglite: await PGlite.create() });
  await migrateToLatest(handle.db);
  return handle;
}

async function bundledResolver(handle: DatabaseHandle): Promise<PromptResolver> {
  const bundled = await loadLocalRepo('prompts');
  const cache = new SnapshotCache({ store: new KyselySnapshotStore(handle.db, 5_000_000), clock: systemClock, logger, limits: {}, ttlMs: 60_000, maxStaleMs: 3_600_000, maxBytes: 10_000_000, failureBackoffMs: 30_000 });
  return createPromptResolver({
    configs: new PromptConfigStore(handle.db),
    cache,
    targetFor: () => {
      throw new Error('no guild repositories in the benchmark');
    },
    bundled: bundled.repo,
    metrics: noPromptMetrics,
    logger,
    now: () => Date.now(),
  });
}

/** Answers after `latencyMs`, with a short partial citing the first and last message it saw; keeps its own busy time. */
function timedProvider(name: string, latencyMs: number, contextWindow: number): Provider & { busyMs: number } {
  const provider = {
    name,
    requiresKey: false,
    busyMs: 0,
    models: [{ id: `${name}-model`, contextWindow, maxOutputTokens: 4_096, streaming: false, inputPricePerMTok: 0, outputPricePerMTok: 0 }],
    async generate(request: GenerateRequest): Promise<GenerateResponse> {
      const started = performance.now();
      const user = request.turns.map((t) => t.content).join('\n');
      const refs = [...user.matchAll(/\[(\d+)\]/g)].map((m) => m[1]);
      const text = `- ${refs.length} references, from [${refs[0] ?? 0}] to [${refs.at(-1) ?? 0}]`;
      if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
      provider.busyMs += performance.now() - started;
      return { text, finishReason: 'stop', usage: { inputTokens: estimateTokens(user), outputTokens: estimateTokens(text) }, provider: name, model: request.model };
    },
    async *stream(): AsyncIterable<never> {
      throw new Error('not used');
    },
    health: async () => ({ ok: true }),
  };
  return provider;
}

interface Setup {
  handle: DatabaseHandle;
  resolver: PromptResolver;
}

async function summarizeWith(setup: Setup, provider: Provider, model: string, prepared: PreparedConversation, concurrency: number, run: number) {
  const router = createRouter({
    providers: { getProvider: (name) => (name === provider.name ? provider : undefined) },
    plan: () => [{ provider: provider.name, model }],
    keys: () => ({ source: 'none' }),
    spendGuard: createSpendGuard({ store: { spentToday: async () => 0, budgetFor: () => null }, clock: systemClock }),
    usage: { record: () => undefined },
    clock: systemClock,
    random: Math.random,
    logger,
    options: { timeouts: { attemptMs: 600_000, totalMs: 600_000 } },
  });
  const window = provider.models.find((m) => m.id === model)?.contextWindow ?? 0;
  const summarizer = createSummarizer({
    resolver: setup.resolver,
    router,
    contextWindowFor: () => window,
    store: new KyselySummaryStore(setup.handle.db),
    clock: systemClock,
    logger,
    options: { mapConcurrency: concurrency },
  });
  // Each run is a new request with no stored partials, so nothing is reused.
  await sql`delete from summary_chunks`.execute(setup.handle.db);
  return summarizer.summarize(prepared, { guildId: GUILD, channelId: `70000000000000${String(run).padStart(4, '0')}`, channelName: 'busy-channel', type: 'detailed', correlationId: `bench-${run}` });
}

export async function run(args: string[]): Promise<void> {
  const countFlag = args.indexOf('--messages');
  const count = countFlag >= 0 ? Number(args[countFlag + 1]) : 10_000;
  const dir = await mkdtemp(join(tmpdir(), 'recap-bench-summarize-'));
  const handle = await openBenchDatabase();
  try {
    const file = join(dir, 'export.json');
    await writeExport(file, count);
    const setup: Setup = { handle, resolver: await bundledResolver(handle) };
    let runs = 0;

    // 1. The offline provider, end to end: import, prepare, summarize.
    global.gc?.();
    const baselineRss = process.memoryUsage().rss;
    let peakRss = baselineRss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 10);
    const started = performance.now();
    const imported = await importDiscordChatExporter(file);
    const prepared = prepareConversation(imported.conversation);
    const local = await summarizeWith(setup, createLocalProvider(), LOCAL_MODEL.id, prepared, 4, ++runs);
    const wall = performance.now() - started;
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (local.messages !== count) throw new Error(`the local summary covered ${local.messages} of ${count} messages`);
    report('summarize-10k-wall', wall / 1000, 's');
    report('summarize-10k-rss', Math.round((peakRss - baselineRss) / 1024 / 1024), 'MB');
    report('summarize-bench-baseline-rss', Math.round(baselineRss / 1024 / 1024), 'MB');

    // 2. The engine's own time: an instant provider, one call at a time, its time subtracted.
    const instant = timedProvider('instant', 0, 32_000);
    const t0 = performance.now();
    const viaInstant = await summarizeWith(setup, instant, 'instant-model', prepared, 1, ++runs);
    const engineMs = performance.now() - t0 - instant.busyMs;
    report('engine-overhead-per-1k', engineMs / (count / 1000), 'ms');

    // 3. Map-reduce against a slow provider: concurrency 4 against 1.
    const slow = timedProvider('slow', 500, 32_000);
    const s1 = performance.now();
    await summarizeWith(setup, slow, 'slow-model', prepared, 1, ++runs);
    const sequential = performance.now() - s1;
    const s4 = performance.now();
    const parallel = await summarizeWith(setup, slow, 'slow-model', prepared, 4, ++runs);
    const concurrent = performance.now() - s4;
    report('map-parallel-speedup', sequential / concurrent, '×');
    report('summarize-10k-wall-500ms-provider', concurrent / 1000, 's');
    report('summarize-10k-chunks-32k-window', parallel.chunks, 'chunks');
    if (viaInstant.chunks !== parallel.chunks) throw new Error('the instant and slow runs planned different chunks');
  } finally {
    await handle.close();
    await rm(dir, { recursive: true, force: true });
  }
}
