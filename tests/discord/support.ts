/**
 * The real bot in-process for Discord tests: discord.js against the Discord
 * emulator, the real dispatcher and commands, and services built from real
 * parts (prompt engine over the bundled prompts, router, summarizer, chat,
 * stores) over a test database. Providers are swapped per test through
 * `useProvider`; they answer from what they were sent, never from what a
 * test expects.
 */
import type { Provider } from '../../src/llm/provider-spec/contract.ts';
import { ProviderError, estimateTokens, type GenerateRequest, type GenerateResponse, type ModelInfo, type StreamEvent } from '../../src/llm/provider-spec/contract.ts';
import { Secret } from '../../src/config/secret.ts';
import { loadSodium } from '../../src/vault/sodium.ts';
import { Vault } from '../../src/vault/vault.ts';
import type { DatabaseHandle } from '../../src/db/database.ts';
import { startBot, type Bot } from '../../src/discord/bot.ts';
import { createMentionChat, type MentionChat } from '../../src/discord/chat/mention-listener.ts';
import type { SlashCommand } from '../../src/discord/command.ts';
import { createAskCommand } from '../../src/discord/commands/ask.ts';
import { createSummarizeCommand } from '../../src/discord/commands/summarize.ts';
import { ConfigHookStore } from '../../src/webhooks/config-hooks.ts';
import type { BotServices } from '../../src/discord/services.ts';
import { createChat } from '../../src/chat/chat.ts';
import { KyselyChatMemoryStore, KyselySummaryStore } from '../../src/summaries/store.ts';
import { createSummarizer, type SummarizerOptions } from '../../src/summaries/summarize.ts';
import { createLlmService } from '../../src/llm/service.ts';
import { createLogger, type Logger } from '../../src/log/logger.ts';
import { systemClock } from '../../src/resilience/clock.ts';
import { findModel } from '../../src/llm/router/targets.ts';
import { createRouter } from '../../src/llm/router/router.ts';
import { createSpendGuard, type SpendGuardOptions } from '../../src/llm/router/spend-guard.ts';
import { startDiscordEmulator, type DiscordEmulator, type DiscordEmulatorOptions, type StoredChannel, type StoredGuild, type StoredUser } from '../emulators/discord/server.ts';
import { quietLogger, streamOf } from '../summaries/support.ts';
import { buildEngine } from '../prompts/engine-helpers.ts';

export { EPHEMERAL } from '../helpers/discord-messages.ts';

export interface World {
  guild: StoredGuild;
  /** A plain member who can read everything below except where noted. */
  alice: StoredUser;
  /** A plain member denied View Channel on `#secret`. */
  bob: StoredUser;
  category: StoredChannel;
  general: StoredChannel;
  secret: StoredChannel;
  /** The bot is denied Read Message History here. */
  sealed: StoredChannel;
  thread: StoredChannel;
  forum: StoredChannel;
  post: StoredChannel;
}

export interface InProcessBot {
  discord: DiscordEmulator;
  world: World;
  bot: Bot;
  services: BotServices;
  mentions: MentionChat;
  /** Every later summary and chat call goes to this provider. */
  useProvider(provider: Provider): void;
  close(): Promise<void>;
}

export interface StartOptions {
  database: DatabaseHandle;
  provider: Provider;
  /** GitHub emulator for guild repositories (default: none reachable). */
  githubApiUrl?: string;
  userRate?: SpendGuardOptions['userRate'];
  summarizer?: SummarizerOptions;
  discord?: DiscordEmulatorOptions;
  commands?: (defaults: SlashCommand[]) => SlashCommand[];
  /** Progress edits no more often than this (default 2 s, as in production). */
  progressIntervalMs?: number;
  /** The commands get a vault with no master key, as on a bot whose operator set no RECAP_MASTER_KEYS. */
  lockedVault?: boolean;
  logger?: Logger;
}

export const silent = createLogger({ level: process.env['TEST_LOG_LEVEL'] === undefined ? 'silent' : (process.env['TEST_LOG_LEVEL'] as 'debug'), format: 'json' });

export async function startInProcessBot(options: StartOptions): Promise<InProcessBot> {
  const logger = options.logger ?? silent;
  const discord = await startDiscordEmulator({ botToken: 'in-process-bot-token', ...options.discord });
  const world = buildWorld(discord);
  const { engine: prompts, vault, registry } = await buildEngine(options.database, { apiUrl: options.githubApiUrl ?? 'http://127.0.0.1:9', clock: systemClock });

  const providers = new Map<string, Provider>();
  let current = options.provider;
  providers.set(current.name, current);
  const plan = () => [{ provider: current.name, model: current.models[0]!.id }];
  const router = createRouter({
    providers: { getProvider: (name) => providers.get(name) },
    plan,
    keys: () => ({ source: 'none' }),
    spendGuard: createSpendGuard({
      store: { spentToday: async () => 0, budgetFor: () => null },
      clock: systemClock,
      ...(options.userRate === undefined ? {} : { userRate: options.userRate }),
    }),
    usage: { record: () => undefined },
    clock: systemClock,
    random: () => 0.5,
    logger: quietLogger,
    sleep: async () => undefined,
    options: { retry: { rounds: 0 }, breaker: { failureThreshold: 1_000 } },
  });
  const contextWindowFor = (): number => findModel(current.models, current.models[0]!.id)?.contextWindow ?? 0;
  const db = options.database.db;
  // The operator's language-model service as the app builds it (offline plugins only); the commands
  // under test call models through the router above, whose providers the tests choose.
  const llm = await createLlmService({ env: {}, db, vault, logger: quietLogger, metrics: registry, clock: systemClock, healthIntervalMs: 3_600_000 });
  const services: BotServices = {
    logger,
    db,
    vault: options.lockedVault === true ? new Vault(db, await loadSodium(), undefined) : vault,
    prompts,
    metrics: registry,
    clock: systemClock,
    summarizer: createSummarizer({ resolver: prompts.resolver, router, contextWindowFor, store: new KyselySummaryStore(db), clock: systemClock, logger: quietLogger, ...(options.summarizer ? { options: options.summarizer } : {}) }),
    chat: createChat({ resolver: prompts.resolver, router, memory: new KyselyChatMemoryStore(db), clock: systemClock, logger: quietLogger }),
    llm,
    webhooks: { hooks: new ConfigHookStore(db, vault), publicUrl: undefined, forgetGuild: () => undefined },
  };
  const defaults = [createSummarizeCommand({ progressIntervalMs: options.progressIntervalMs ?? 2_000 }), createAskCommand()];
  const mentions = createMentionChat({ services, logger });
  const bot = await startBot({
    token: new Secret(discord.botToken),
    apiUrl: discord.apiUrl,
    devGuildId: world.guild.id,
    registerCommands: true,
    commands: options.commands ? options.commands(defaults) : defaults,
    services,
    logger,
    onClient: (client, dispatcher) => mentions.onClient(client, dispatcher),
  });
  await discord.waitForRequest((r) => r.method === 'PUT' && r.path.endsWith(`/guilds/${world.guild.id}/commands`) && r.status === 200);

  return {
    discord,
    world,
    bot,
    services,
    mentions,
    useProvider(provider) {
      providers.set(provider.name, provider);
      current = provider;
    },
    async close() {
      await mentions.drain(5_000);
      await bot.stop(5_000);
      await llm.close();
      await prompts.settle();
      await discord.close();
    },
  };
}

function buildWorld(discord: DiscordEmulator): World {
  const guild = discord.addGuild({ name: 'acme' });
  const alice = discord.addUser({ username: 'alice', globalName: 'Alice G' });
  discord.addMember(guild.id, alice.id, { nick: 'Ally' });
  const bob = discord.addUser({ username: 'bob' });
  discord.addMember(guild.id, bob.id);
  const category = discord.addChannel(guild.id, { kind: 'category', name: 'Engineering' });
  const general = discord.addChannel(guild.id, { kind: 'text', name: 'general', parentId: category.id });
  const secret = discord.addChannel(guild.id, { kind: 'text', name: 'secret', overwrites: [{ id: bob.id, type: 'member', deny: ['ViewChannel'] }] });
  const sealed = discord.addChannel(guild.id, { kind: 'text', name: 'sealed', overwrites: [{ id: discord.bot.id, type: 'member', deny: ['ReadMessageHistory'] }] });
  const thread = discord.addChannel(guild.id, { kind: 'thread', name: 'planning', parentId: general.id, ownerId: alice.id });
  const forum = discord.addChannel(guild.id, { kind: 'forum', name: 'ideas' });
  const post = discord.addChannel(guild.id, {
    kind: 'forum-post',
    name: 'dark mode',
    parentId: forum.id,
    ownerId: bob.id,
    starter: { authorId: bob.id, content: 'Proposal: ship a dark mode for the dashboard.' },
  });
  return { guild, alice, bob, category, general, secret, sealed, thread, forum, post };
}

// ---- providers -------------------------------------------------------------------------------

const MODEL = (id: string, contextWindow = 200_000): ModelInfo => ({
  id,
  contextWindow,
  maxOutputTokens: 8_192,
  streaming: false,
  inputPricePerMTok: 3,
  outputPricePerMTok: 15,
});

const LINE = /^\[(\d+)\] \S+ \S+ UTC ([^:]+?)(?: \(replying to [^)]*\))?: (.*)$/gm;

/**
 * Writes out every message it is sent, in full, as a "detailed" model might:
 * one paragraph per message, citing it, with the transcript's line-break
 * markers turned back into line breaks (so code blocks members posted come
 * back as code blocks). Chat: repeats the question and lists what it remembers.
 */
export class TranscribingProvider implements Provider {
  readonly requiresKey = false;
  readonly models: readonly ModelInfo[];
  readonly calls: GenerateRequest[] = [];

  constructor(
    readonly name = 'transcriber',
    model = 'transcriber-1',
    /** Milliseconds each call takes. */
    private readonly delayMs = 0,
  ) {
    this.models = [MODEL(model)];
  }

  async generate(request: GenerateRequest): Promise<GenerateResponse> {
    this.calls.push(request);
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (request.signal?.aborted) throw new ProviderError('aborted', 'aborted', { provider: this.name });
    const user = request.turns.map((t) => t.content).join('\n');
    const text = request.attachments?.task === 'chat' ? this.chatAnswer(request) : this.transcribe(user);
    const input = estimateTokens(request.system) + estimateTokens(user);
    return { text, finishReason: 'stop', usage: { inputTokens: input, outputTokens: estimateTokens(text) }, provider: this.name, model: request.model };
  }

  private transcribe(user: string): string {
    const paragraphs = [...user.matchAll(LINE)].map(([, ref, author, body]) => `**${author}** said [${ref}]:\n${(body ?? '').replaceAll(' ⏎ ', '\n').replaceAll('⏎', '\n')}`);
    return paragraphs.length > 0 ? paragraphs.join('\n\n') : 'Nothing was said.';
  }

  private chatAnswer(request: GenerateRequest): string {
    const asked = request.turns.filter((t) => t.role === 'user').map((t) => /<member name="[^"]*">\n([\s\S]*?)\n<\/member>/.exec(t.content)?.[1] ?? t.content);
    const last = asked.at(-1) ?? '';
    const earlier = asked.slice(0, -1);
    return `You asked: ${last}${earlier.length > 0 ? `\nEarlier you asked: ${earlier.join(' | ')}` : ''}`;
  }

  stream(request: GenerateRequest): AsyncIterable<StreamEvent> {
    return streamOf(this.generate(request));
  }

  async health() {
    return { ok: true };
  }
}

/** A backend in an outage: every call is answered 529 Overloaded. */
export class OverloadedProvider implements Provider {
  readonly requiresKey = false;
  readonly models: readonly ModelInfo[] = [MODEL('busy-1')];
  calls = 0;

  constructor(readonly name = 'busy') {}

  async generate(request: GenerateRequest): Promise<GenerateResponse> {
    this.calls++;
    throw new ProviderError('overloaded', 'Overloaded', { provider: this.name, model: request.model, status: 529 });
  }

  // eslint-disable-next-line require-yield
  async *stream(request: GenerateRequest): AsyncIterable<StreamEvent> {
    await this.generate(request);
  }

  async health() {
    return { ok: false, detail: 'overloaded' };
  }
}
