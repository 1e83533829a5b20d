/**
 * Discord emulator: REST (`/api/v10`) and a plain-JSON gateway that a real discord.js Client talks
 * to over 127.0.0.1, plus a model of guilds, channels, roles, members and histories that tests set up.
 *
 *   const discord = await startDiscordEmulator({ botToken: 'token' });
 *   const guild = discord.addGuild({ name: 'acme' });
 *   const general = discord.addChannel(guild.id, { kind: 'text', name: 'general' });
 *   const alice = discord.addMember(guild.id, { username: 'alice' });
 *   discord.seedMessages(general.id, 250);
 *   const client = new Client({ intents, rest: { api: discord.apiUrl } });  // then client.login('token')
 *   await discord.waitForSessions(1);
 *   const handle = discord.sendInteraction({ type: 'command', channelId: general.id, userId: alice.userId, name: 'recap' });
 *   const reply = await handle.waitForReply();   // also waitForFinal(pred), waitForFollowUp, waitForModal,
 *                                                // waitForChoices, waitForRejection, waitFor(probe)
 *   discord.messageCreate({ channelId: general.id, authorId: alice.userId, content: `<@${discord.bot.id}> hi` });
 *   await discord.waitForBotMessage((m) => m.channel_id === general.id);
 *   discord.rateLimit('POST /channels/:channelId/messages', { times: 1, retryAfterMs: 200 });
 *   discord.requests   // every REST call: method, route, status, auth kind (never the token), body, files
 *   await client.destroy(); await discord.close();
 *
 * Model: addUser, addGuild (creates @everyone, an owner and the bot's member + managed role),
 * addRole, addMember(guild, userId | { username }, { roles, permissions }), addChannel (text,
 * announcement, voice, category, forum, thread, private-thread, forum-post; threads take `members`),
 * addThreadMember / removeThreadMember, setOverwrite,
 * seedMessages(channel, n | messages), startThread(channel, message, …), permissionsFor(channel, user),
 * deleteMessages(channel, ids, { bulk }) (MESSAGE_DELETE, or MESSAGE_DELETE_BULK). Changes made after a client
 * connected are announced over the gateway (GUILD_CREATE, CHANNEL_CREATE, THREAD_CREATE, …).
 *
 * Gateway: `/gateway/bot` names `ws://…/gateway`; HELLO, IDENTIFY (intents and shard recorded,
 * privileged intents checked), READY, GUILD_CREATE per guild of the shard (`(id >> 22) % count`),
 * heartbeat ACKs, RESUME with replay. `dispatch(event, data, target)` sends anything;
 * `gateway.requestReconnect / invalidateSession / dropConnection` test recovery; `gateway.outage()`
 * cuts every connection and refuses new ones until `gateway.restore()`; `gateway.holdIdentify()`
 * delays READY until `gateway.releaseIdentify()`.
 *
 * Interactions: `sendInteraction({ type: 'command' | 'autocomplete' | 'button' | 'select' |
 * 'modal-submit', … })` refuses what a member could not do (unregistered command when commands are
 * registered, missing button, no access) and returns an InteractionHandle recording the callback,
 * every state of the original message, follow-ups, files and refused calls. Callbacks after
 * `ackDeadlineMs` (default 3,000) are 404 Unknown interaction; a second one is 400 (40060).
 * As on Discord, the first follow-up after a deferred reply replaces the "thinking…" message, and
 * non-ephemeral replies are channel messages (MESSAGE_CREATE). `dm: true` acts in the user's DM.
 *
 * REST enforces `Authorization: Bot <token>` on bot routes, the bot's channel permissions, message
 * limits (400 Invalid Form Body), and per-route rate limits with Discord's headers.
 * Time: message timestamps and interaction deadlines follow `clock` (default: the system clock).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../../../src/resilience/clock.ts';
import { ChangeFeed } from './change-feed.ts';
import { CommandRegistry } from './commands.ts';
import { Gateway, type DispatchData, type DispatchTarget, type GatewaySession } from './gateway.ts';
import { gatewayWorld } from './gateway-world.ts';
import { InteractionHandle, InteractionRegistry } from './interaction-handle.ts';
import { InteractionPayloadBuilder, type InteractionSpec } from './interaction-payloads.ts';
import { Intent, PRIVILEGED_INTENTS } from './intents.ts';
import { MemberMessages, type MemberMessage, type SeedMessage, type SeedOptions } from './member-messages.ts';
import { MessageFactory } from './message-factory.ts';
import { Permission, toPermissionBits, type PermissionInput } from './permissions.ts';
import { GatewayPublisher } from './publisher.ts';
import { RateLimiter, type InjectedLimitOptions, type RateLimitPolicy, type RouteMatcher } from './rate-limits.ts';
import type { RecordedRequest } from './request-log.ts';
import { RestPipeline } from './rest-pipeline.ts';
import { applicationRoutes } from './rest/application-routes.ts';
import { channelRoutes } from './rest/channel-routes.ts';
import type { RestDeps } from './rest/context.ts';
import { guildRoutes } from './rest/guild-routes.ts';
import { interactionRoutes } from './rest/interaction-routes.ts';
import { Router } from './router.ts';
import { startThreadFromMessage, type ThreadStart } from './thread-start.ts';
import { SnowflakeFactory } from './snowflake.ts';
import {
  DiscordState,
  type ChannelSpec,
  type GuildSpec,
  type MemberOptions,
  type OverwriteSpec,
  type RoleSpec,
  type UserSpec,
} from './state.ts';
import type { ApiMessage, StoredChannel, StoredGuild, StoredMember, StoredRole, StoredUser } from './model.ts';

export interface DiscordEmulatorOptions {
  /** Default `emulator-bot-token`. */
  botToken?: string;
  botUser?: { id?: string; username?: string; globalName?: string | null };
  /** Default: the bot user's id, as for Discord bots. */
  applicationId?: string;
  applicationName?: string;
  /** HELLO's heartbeat interval (default 2,000 ms; Discord's is ~41 s). */
  heartbeatIntervalMs?: number;
  /** Interaction callbacks later than this get 404 Unknown interaction (default 3,000). */
  ackDeadlineMs?: number;
  /** Interaction webhooks expire after this (default 15 min). */
  interactionTokenTtlMs?: number;
  /** `shards` in `/gateway/bot` (default 1). */
  recommendedShards?: number;
  /** `session_start_limit.max_concurrency` (default 1; raise it so shards identify at once). */
  maxConcurrency?: number;
  sessionStartLimit?: number;
  /** Per bucket (route + channel/guild/webhook); default 50 per 1,000 ms (wall clock). */
  rateLimit?: RateLimitPolicy;
  /** Privileged intents switched on in the "developer portal" (default: all three). */
  enabledPrivilegedIntents?: number;
  /** Per uploaded file (default 10 MiB). */
  attachmentSizeLimit?: number;
  /** Message timestamps, snowflakes and interaction deadlines; set a ManualClock near real time. */
  clock?: Clock;
}

export class DiscordEmulator {
  readonly botToken: string;
  readonly applicationId: string;
  readonly state: DiscordState;
  readonly gateway: Gateway;
  readonly commands: CommandRegistry;
  readonly interactionRegistry: InteractionRegistry;
  /** Unexpected emulator failures (answered 500); a healthy test leaves this empty. */
  readonly internalErrors: Error[] = [];

  readonly #clock: Clock;
  readonly #feed = new ChangeFeed();
  readonly #server: Server;
  readonly #limiter: RateLimiter;
  readonly #publisher: GatewayPublisher;
  readonly #payloads: InteractionPayloadBuilder;
  readonly #memberMessages: MemberMessages;
  readonly #messageFactory: MessageFactory;
  readonly #requests: RecordedRequest[] = [];
  readonly #botMessages: ApiMessage[] = [];
  #port = 0;

  private constructor(options: DiscordEmulatorOptions) {
    this.#clock = options.clock ?? systemClock;
    this.botToken = options.botToken ?? 'emulator-bot-token';
    this.state = new DiscordState(new SnowflakeFactory(), this.#clock, {
      id: options.botUser?.id,
      username: options.botUser?.username ?? 'recap-bot',
      globalName: options.botUser?.globalName ?? null,
    });
    this.applicationId = options.applicationId ?? this.state.bot.id;
    const privileged = options.enabledPrivilegedIntents ?? PRIVILEGED_INTENTS;
    this.commands = new CommandRegistry(this.applicationId, () => this.state.newId(), () => this.#clock.now());
    this.interactionRegistry = new InteractionRegistry(options.ackDeadlineMs ?? 3_000, options.interactionTokenTtlMs ?? 15 * 60_000);
    // Clients really wait out rate limits, so buckets run on wall-clock time whatever `clock` says.
    this.#limiter = new RateLimiter(options.rateLimit ?? { limit: 50, windowMs: 1_000 }, systemClock);
    const messages = new MessageFactory(this.state, () => `${this.baseUrl}/attachments`);
    this.#messageFactory = messages;
    this.gateway = new Gateway({
      botToken: this.botToken,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 2_000,
      enabledPrivilegedIntents: privileged,
      gatewayUrl: () => this.gatewayUrl,
      world: gatewayWorld(this.state, this.applicationId, () => this.gatewayUrl),
      feed: this.#feed,
      clock: this.#clock,
    });
    this.#publisher = new GatewayPublisher(this.gateway, this.state);
    this.#payloads = new InteractionPayloadBuilder(this.state, this.commands, this.applicationId);
    this.#memberMessages = new MemberMessages(this.state, messages, this.#publisher);
    const deps: RestDeps = {
      state: this.state,
      messages,
      publish: this.#publisher,
      commands: this.commands,
      interactions: this.interactionRegistry,
      settings: {
        applicationId: this.applicationId,
        applicationName: options.applicationName ?? this.state.bot.username,
        gatewayUrl: () => this.gatewayUrl,
        recommendedShards: options.recommendedShards ?? 1,
        maxConcurrency: options.maxConcurrency ?? 1,
        sessionStartLimit: options.sessionStartLimit ?? 1000,
        attachmentSizeLimit: options.attachmentSizeLimit ?? 10 * 1024 * 1024,
        enabledPrivilegedIntents: privileged,
      },
      botMessageSent: (message) => {
        this.#botMessages.push(message);
        this.#feed.notify();
      },
    };
    const pipeline = new RestPipeline({
      router: new Router().add(applicationRoutes(deps)).add(channelRoutes(deps)).add(guildRoutes(deps)).add(interactionRoutes(deps)),
      limiter: this.#limiter,
      botToken: this.botToken,
      attachments: this.state.attachmentBytes,
      record: (request) => {
        this.#requests.push(request);
        this.#feed.notify();
      },
      internalError: (error) => this.internalErrors.push(error),
    });
    this.#server = createServer((req, res) => {
      pipeline.handle(req, res).catch((error: unknown) => {
        // Only a broken socket gets here (the pipeline answers every other failure itself).
        this.internalErrors.push(error instanceof Error ? error : new Error(String(error)));
        res.destroy();
      });
    });
    this.gateway.attach(this.#server);
  }

  static async start(options: DiscordEmulatorOptions = {}): Promise<DiscordEmulator> {
    const emulator = new DiscordEmulator(options);
    await new Promise<void>((resolve, reject) => {
      emulator.#server.once('error', reject);
      emulator.#server.listen(0, '127.0.0.1', () => resolve());
    });
    emulator.#port = (emulator.#server.address() as AddressInfo).port;
    return emulator;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Pass as discord.js `rest.api`. */
  get apiUrl(): string {
    return `${this.baseUrl}/api`;
  }

  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.#port}/gateway`;
  }

  get bot(): StoredUser {
    return this.state.bot;
  }

  /** Every REST request so far (tokens redacted). */
  get requests(): readonly RecordedRequest[] {
    return this.#requests;
  }

  /** Every message the bot created (channel posts, interaction replies, follow-ups); live objects. */
  get botMessages(): readonly ApiMessage[] {
    return this.#botMessages;
  }

  get interactions(): readonly InteractionHandle[] {
    return this.interactionRegistry.all;
  }

  // ---- model ----

  addUser(spec: UserSpec): StoredUser {
    return this.state.addUser(spec);
  }

  addGuild(spec: GuildSpec = {}): StoredGuild {
    const guild = this.state.addGuild(spec);
    this.#publisher.guildCreated(guild);
    return guild;
  }

  addRole(guildId: string, spec: RoleSpec): StoredRole {
    const role = this.state.addRole(guildId, spec);
    this.#publisher.roleCreated(role);
    return role;
  }

  /** Adds a member (creating the user from `{ username }` if needed). */
  addMember(guildId: string, user: string | UserSpec, options: MemberOptions = {}): StoredMember {
    const userId = typeof user === 'string' ? user : this.state.addUser(user).id;
    const roles = [...(options.roles ?? [])];
    if (options.permissions !== undefined) {
      const name = `${this.state.user(userId).username}-perms`;
      roles.push(this.addRole(guildId, { name, permissions: options.permissions }).id);
    }
    const member = this.state.addMember(guildId, userId, { ...options, roles, permissions: undefined });
    this.#publisher.memberAdded(member);
    return member;
  }

  /** Adds a channel; a forum post may bring its starter message (which shares the post's id). */
  addChannel(guildId: string, spec: ChannelSpec & { starter?: SeedMessage }): StoredChannel {
    const channel = this.state.addChannel(guildId, spec);
    this.#publisher.channelCreated(channel);
    if (spec.starter) this.#memberMessages.store(channel, spec.starter, { publish: true, id: channel.id });
    return channel;
  }

  /** A member starts a thread from a message in a text or announcement channel: the thread takes the message's id and opens with a THREAD_STARTER_MESSAGE. */
  startThread(channelId: string, messageId: string, start: ThreadStart): StoredChannel {
    const parent = this.state.channel(channelId);
    const message = this.state.message(channelId, messageId);
    if (!message) throw new Error(`Unknown message ${messageId} in channel ${channelId}`);
    const thread = startThreadFromMessage(this.state, this.#messageFactory, parent, message, start);
    this.#publisher.channelCreated(thread);
    return thread;
  }

  setOverwrite(channelId: string, spec: OverwriteSpec): StoredChannel {
    const channel = this.state.setOverwrite(channelId, spec);
    this.#publisher.channelUpdated(channel);
    return channel;
  }

  /** Adds a member to a thread (as a moderator or the thread's creator would), announced as Discord does. */
  addThreadMember(threadId: string, userId: string): StoredChannel {
    const thread = this.state.addThreadMember(threadId, userId);
    this.#publisher.threadMembersUpdated(thread, { added: [userId] });
    return thread;
  }

  removeThreadMember(threadId: string, userId: string): StoredChannel {
    const thread = this.state.removeThreadMember(threadId, userId);
    this.#publisher.threadMembersUpdated(thread, { removed: [userId] });
    return thread;
  }

  /** Computed like Discord: roles, @everyone, ADMINISTRATOR, owner, overwrites (threads: parent's; private threads: members and thread managers only). */
  permissionsFor(channelId: string, userId: string): bigint {
    return this.state.permissionsIn(channelId, userId);
  }

  /**
   * Back-fills history (no gateway events). A number generates that many messages from members
   * who can post there, `spacingMs` apart, ending one spacing before now.
   */
  seedMessages(channelId: string, messages: number | readonly SeedMessage[], options: SeedOptions = {}): ApiMessage[] {
    return this.#memberMessages.seed(channelId, messages, options);
  }

  /** A member posts: stored in history and sent as MESSAGE_CREATE (content subject to intents). */
  messageCreate(input: MemberMessage): ApiMessage {
    return this.#memberMessages.store(this.state.channel(input.channelId), input, { publish: true });
  }

  // ---- gateway ----

  /** Sends a raw dispatch; returns how many sessions received it. */
  /**
   * A member or moderator deletes messages in the Discord client: removed from the channel and
   * announced as MESSAGE_DELETE each, or, with `bulk` (2–100 ids, as Discord allows), one
   * MESSAGE_DELETE_BULK.
   */
  deleteMessages(channelId: string, messageIds: readonly string[], options: { bulk?: boolean } = {}): void {
    if (options.bulk === true && (messageIds.length < 2 || messageIds.length > 100)) throw new Error('a bulk delete takes 2 to 100 messages');
    for (const id of messageIds) this.state.removeMessage(channelId, id);
    if (options.bulk === true) this.#publisher.messagesDeletedBulk(channelId, messageIds);
    else for (const id of messageIds) this.#publisher.messageDeleted(channelId, id);
  }

  dispatch(event: string, data: DispatchData, target: DispatchTarget = {}): number {
    return this.gateway.dispatch(event, data, target);
  }

  /** Resolves once `count` sessions are identified and connected. */
  waitForSessions(count = 1, timeoutMs = 10_000): Promise<GatewaySession[]> {
    const live = () => this.gateway.sessions.filter((s) => s.connected && !s.ended);
    return this.#feed.waitFor(
      () => (live().length >= count ? live() : undefined),
      timeoutMs,
      () => `${count} gateway session(s) (have ${live().length})`,
    );
  }

  /** Dispatches INTERACTION_CREATE as a member's action and returns its recording handle. */
  sendInteraction(spec: InteractionSpec): InteractionHandle {
    const built = this.#payloads.build(spec);
    const now = () => this.#clock.now();
    const handle = new InteractionHandle(built.kind, built.payload, now(), built.componentMessage, this.#feed, now);
    this.interactionRegistry.add(handle);
    const reached = this.gateway.dispatch('INTERACTION_CREATE', built.payload, { guildId: built.guildId });
    if (reached === 0) throw new Error(`No gateway session would receive an interaction in ${built.guildId ?? 'a DM'}; is the client logged in?`);
    return handle;
  }

  // ---- REST controls and waits ----

  /** The next `times` requests matching get 429 (see RouteMatcher). */
  rateLimit(matcher: RouteMatcher, options: InjectedLimitOptions = {}): void {
    this.#limiter.inject(matcher, options);
  }

  waitForRequest(predicate: (request: RecordedRequest) => boolean, timeoutMs = 5_000): Promise<RecordedRequest> {
    return this.#feed.waitFor(() => this.#requests.find(predicate), timeoutMs, () => `a matching request (${this.#requests.length} seen)`);
  }

  waitForBotMessage(predicate: (message: ApiMessage) => boolean = () => true, timeoutMs = 5_000): Promise<ApiMessage> {
    return this.#feed.waitFor(() => this.#botMessages.find(predicate), timeoutMs, () => `a matching bot message (${this.#botMessages.length} sent)`);
  }

  /** Stops the gateway and HTTP server; destroy discord.js clients first so they do not reconnect. */
  async close(): Promise<void> {
    await this.gateway.close();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

export const startDiscordEmulator = (options?: DiscordEmulatorOptions): Promise<DiscordEmulator> => DiscordEmulator.start(options);
export { startDiscordEmulator as start };

export { toPermissionBits, Permission, Intent };
export type { PermissionInput, InteractionSpec, RecordedRequest, GatewaySession, DispatchTarget, MemberMessage, SeedMessage, SeedOptions };
export type { InteractionHandle } from './interaction-handle.ts';
export type { ApiMessage, StoredChannel, StoredGuild, StoredMember, StoredRole, StoredUser } from './model.ts';
export type { ChannelSpec, GuildSpec, MemberOptions, OverwriteSpec, RoleSpec, UserSpec } from './state.ts';
