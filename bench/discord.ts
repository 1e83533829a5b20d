/**
 * `npm run bench -- discord [--interactions 200] [--delay-ms 2000] [--messages 20]`:
 * that many members run /summarize at the same moment, each on its own
 * channel, against the bot in this process (real discord.js client,
 * dispatcher, command, summarizer, router and PGlite) and the Discord
 * emulator, with a provider that takes `--delay-ms` to answer.
 *
 *   discord-ack-max       ms from an interaction's creation to its first callback (Discord drops it after 3,000)
 *   discord-ack-p50       the median of the same
 *   discord-lost          interactions that never got their summary (or a failure message)
 *   discord-loop-lag-p99  event-loop delay during the run (perf_hooks.monitorEventLoopDelay)
 *   discord-wall          from the first interaction to the last summary
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { PGlite } from '@electric-sql/pglite';
import { loadConfig } from '../src/config/env.ts';
import { Secret } from '../src/config/secret.ts';
import { openDatabase } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { startBot } from '../src/discord/bot.ts';
import { createSummarizeCommand } from '../src/discord/commands/summarize.ts';
import { ConfigHookStore } from '../src/webhooks/config-hooks.ts';
import type { BotServices } from '../src/discord/services.ts';
import { createChat } from '../src/chat/chat.ts';
import { KyselyChatMemoryStore, KyselySummaryStore } from '../src/summaries/store.ts';
import { createSummarizer } from '../src/summaries/summarize.ts';
import { createLlmService } from '../src/llm/service.ts';
import { createLogger } from '../src/log/logger.ts';
import { createMetricsRegistry } from '../src/metrics/registry.ts';
import { loadLocalRepo } from '../src/prompts/bundled.ts';
import { createPromptEngine } from '../src/prompts/engine.ts';
import { createPromptMetrics } from '../src/prompts/metrics.ts';
import { estimateTokens, type GenerateRequest, type GenerateResponse, type ModelInfo, type Provider } from '../src/llm/provider-spec/contract.ts';
import { systemClock } from '../src/resilience/clock.ts';
import { createRouter } from '../src/llm/router/router.ts';
import { createSpendGuard } from '../src/llm/router/spend-guard.ts';
import { loadSodium } from '../src/vault/sodium.ts';
import { Vault } from '../src/vault/vault.ts';
import { startDiscordEmulator, type InteractionHandle } from '../tests/emulators/discord/server.ts';
import { quantile, report } from './_report.ts';

const logger = createLogger({ level: 'silent', format: 'json' });

/** Answers after `delayMs`, citing every transcript line it was sent. */
function slowProvider(delayMs: number): Provider {
  const model: ModelInfo = { id: 'slow-1', contextWindow: 200_000, maxOutputTokens: 4_096, streaming: false, inputPricePerMTok: 3, outputPricePerMTok: 15 };
  const generate = async (request: GenerateRequest): Promise<GenerateResponse> => {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    const user = request.turns.map((t) => t.content).join('\n');
    const refs = [...user.matchAll(/^\[(\d+)\] /gm)].map((m) => `[${m[1]}]`);
    const text = `- ${refs.length} messages: ${refs.join('')}`;
    return { text, finishReason: 'stop', usage: { inputTokens: estimateTokens(user), outputTokens: estimateTokens(text) }, provider: 'slow', model: request.model };
  };
  return {
    name: 'slow',
    models: [model],
    requiresKey: false,
    generate,
    async *stream(request) {
      const response = await generate(request);
      yield { type: 'text', delta: response.text };
      yield { type: 'finish', finishReason: response.finishReason, usage: response.usage, provider: response.provider, model: response.model };
    },
    health: async () => ({ ok: true }),
  };
}

function option(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(`--${name}`);
  const value = at >= 0 ? Number(args[at + 1]) : fallback;
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`--${name} takes a whole number, got ${args[at + 1]}`);
  return value;
}

export async function run(args: string[]): Promise<void> {
  const count = option(args, 'interactions', 200);
  const delayMs = option(args, 'delay-ms', 2_000);
  const perChannel = Math.max(1, option(args, 'messages', 20));

  const database = await openDatabase({ dataDir: '', poolMax: 1, logger, pglite: await PGlite.create() });
  await migrateToLatest(database.db);
  const discord = await startDiscordEmulator({ botToken: 'bench-token', rateLimit: { limit: 50, windowMs: 1_000 } });
  try {
    const guild = discord.addGuild({ name: 'bench' });
    const members = Array.from({ length: 20 }, (_, i) => discord.addMember(guild.id, { username: `member${i}` }).userId);
    const channels = Array.from({ length: count }, (_, i) => discord.addChannel(guild.id, { kind: 'text', name: `chan-${i}` }).id);
    for (const channelId of channels) discord.seedMessages(channelId, perChannel, { authorIds: members });

    const provider = slowProvider(delayMs);
    const router = createRouter({
      providers: { getProvider: (name) => (name === provider.name ? provider : undefined) },
      plan: () => [{ provider: provider.name, model: 'slow-1' }],
      keys: () => ({ source: 'none' }),
      spendGuard: createSpendGuard({ store: { spentToday: async () => 0, budgetFor: () => null }, clock: systemClock }),
      usage: { record: () => undefined },
      clock: systemClock,
      random: Math.random,
      logger,
      options: { retry: { rounds: 0 } },
    });
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const bundled = await loadLocalRepo('prompts');
    const vault = new Vault(database.db, await loadSodium(), undefined);
    const prompts = createPromptEngine({
      config: loadConfig({ GITHUB_API_URL: 'http://127.0.0.1:9' }),
      db: database.db,
      vault,
      logger,
      clock: systemClock,
      metrics: createPromptMetrics(registry),
      bundled: bundled.repo,
    });
    // The app's language-model service (offline plugins); the bench's slow provider is reached through the router above.
    const llm = await createLlmService({ env: {}, db: database.db, vault, logger, metrics: registry, clock: systemClock, healthIntervalMs: 3_600_000 });
    const services: BotServices = {
      logger,
      db: database.db,
      vault,
      prompts,
      metrics: registry,
      clock: systemClock,
      summarizer: createSummarizer({ resolver: prompts.resolver, router, contextWindowFor: () => 200_000, store: new KyselySummaryStore(database.db), clock: systemClock, logger }),
      chat: createChat({ resolver: prompts.resolver, router, memory: new KyselyChatMemoryStore(database.db), clock: systemClock, logger }),
      llm,
      webhooks: { hooks: new ConfigHookStore(database.db, vault), publicUrl: undefined, forgetGuild: () => undefined },
    };
    const bot = await startBot({
      token: new Secret(discord.botToken),
      apiUrl: discord.apiUrl,
      devGuildId: guild.id,
      registerCommands: true,
      commands: [createSummarizeCommand()],
      services,
      logger,
    });
    await discord.waitForRequest((r) => r.method === 'PUT' && r.path.endsWith(`/guilds/${guild.id}/commands`) && r.status === 200);

    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const started = Date.now();
    const handles: InteractionHandle[] = channels.map((channelId, i) =>
      discord.sendInteraction({ type: 'command', name: 'summarize', userId: members[i % members.length]!, channelId }),
    );
    // liveOriginal(), not original: the waits run this on every emulator event, and a clone each time would be the bench's own lag.
    const failed = (h: InteractionHandle): boolean => h.liveOriginal()?.content.includes('(ref `') ?? false;
    const finished = (h: InteractionHandle): boolean => h.followUps.some((f) => f.message.embeds.some((e) => e.footer !== undefined)) || failed(h);
    const deadline = 120_000 + delayMs;
    await Promise.allSettled(handles.map((h) => h.waitFor((x) => finished(x), deadline, 'the summary')));
    const wall = Date.now() - started;
    lag.disable();

    const acks = handles.map((h) => h.callback?.atMs ?? Number.POSITIVE_INFINITY);
    const failures = handles.filter(failed);
    report('discord-ack-max', Math.max(...acks), 'ms');
    report('discord-ack-p50', quantile(acks, 0.5), 'ms');
    report('discord-lost', handles.filter((h) => !finished(h)).length, 'interactions');
    report('discord-failed', failures.length, 'interactions');
    report('discord-loop-lag-p99', lag.percentile(99) / 1e6, 'ms');
    report('discord-wall', wall, 'ms');
    if (failures.length > 0) process.stderr.write(`first failure: ${failures[0]!.liveOriginal()?.content ?? ''}\n`);

    await bot.stop(5_000);
    await llm.close();
    await prompts.settle();
  } finally {
    await discord.close();
    await database.close();
  }
}
