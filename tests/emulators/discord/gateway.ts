/**
 * The gateway: plain-JSON WebSocket sessions with HELLO, IDENTIFY → READY + GUILD_CREATE,
 * heartbeats, RESUME with replay, sharding and intent-filtered dispatches.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Clock } from '../../../src/resilience/clock.ts';
import type { ChangeFeed } from './change-feed.ts';
import { PRIVILEGED_INTENTS } from './intents.ts';
import { isRecord } from './json-input.ts';
import type { JsonObject } from './model.ts';
import { shardOfGuild } from './snowflake.ts';

const Op = {
  Dispatch: 0,
  Heartbeat: 1,
  Identify: 2,
  PresenceUpdate: 3,
  VoiceStateUpdate: 4,
  Resume: 6,
  Reconnect: 7,
  RequestGuildMembers: 8,
  InvalidSession: 9,
  Hello: 10,
  HeartbeatAck: 11,
} as const;

export const GatewayClose = {
  UnknownError: 4000,
  UnknownOpcode: 4001,
  DecodeError: 4002,
  NotAuthenticated: 4003,
  AuthenticationFailed: 4004,
  AlreadyAuthenticated: 4005,
  InvalidShard: 4010,
  InvalidApiVersion: 4012,
  InvalidIntents: 4013,
  DisallowedIntents: 4014,
} as const;

/** What the gateway needs from the world to greet a session. */
export interface GatewayWorld {
  readyPayload(session: GatewaySession): JsonObject;
  /** One GUILD_CREATE per guild on the session's shard. */
  guildCreates(session: GatewaySession): { guildId: string; data: JsonObject }[];
  /** GUILD_MEMBERS_CHUNK payloads answering an op 8 request. */
  memberChunks(session: GatewaySession, request: JsonObject): JsonObject[];
}

export interface GatewayOptions {
  botToken: string;
  heartbeatIntervalMs: number;
  enabledPrivilegedIntents: number;
  /** The URL sessions resume on (READY's `resume_gateway_url`). */
  gatewayUrl: () => string;
  world: GatewayWorld;
  feed: ChangeFeed;
  clock: Clock;
}

/** A session as tests see it; it outlives its connection until the client closes with 1000/1001. */
export interface GatewaySession {
  readonly id: string;
  readonly shard: readonly [number, number];
  readonly intents: number;
  readonly properties: JsonObject;
  readonly compress: boolean;
  readonly largeThreshold: number | null;
  connected: boolean;
  ended: boolean;
  /** Last sequence number sent. */
  seq: number;
  /** Guilds announced by GUILD_CREATE right after READY. */
  readonly initialGuildIds: string[];
  /** Every dispatch, in order (payloads are kept for RESUME replay). */
  readonly dispatched: { t: string; s: number; at: number; d: unknown }[];
  heartbeats: number;
  resumes: number;
  /** Close codes of this session's connections, client- or server-initiated. */
  readonly closeCodes: number[];
}

export interface DispatchTarget {
  /** Only this session. */
  sessionId?: string;
  /** Sessions whose shard owns the guild; `null` means a DM (shard 0). Omit for every session. */
  guildId?: string | null;
  /** Skip sessions that did not ask for this intent bit. */
  intent?: number;
}

/** `data` may depend on the session (e.g. content hidden without MESSAGE_CONTENT); undefined skips it. */
export type DispatchData = unknown | ((session: GatewaySession) => unknown);

interface Connection {
  ws: WebSocket;
  session: GatewaySession | null;
}

export class Gateway {
  readonly sessions: GatewaySession[] = [];
  readonly #connections = new Set<Connection>();
  readonly #live = new Map<string, Connection>();
  readonly #wss = new WebSocketServer({ noServer: true });
  #down = false;
  /** IDENTIFYs waiting for `releaseIdentify()`; undefined when READY is not held. */
  #heldIdentifies: Array<() => void> | undefined;

  constructor(private readonly options: GatewayOptions) {}

  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      // An outage resets the connection, as an unreachable gateway does.
      if (url.pathname !== '/gateway' || this.#down) {
        socket.destroy();
        return;
      }
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, url.searchParams));
    });
  }

  #accept(ws: WebSocket, query: URLSearchParams): void {
    const connection: Connection = { ws, session: null };
    this.#connections.add(connection);
    ws.on('close', (code) => this.#closed(connection, code));
    ws.on('error', () => ws.terminate());
    if ((query.get('v') ?? '10') !== '10') return void ws.close(GatewayClose.InvalidApiVersion, 'Invalid API version');
    if ((query.get('encoding') ?? 'json') !== 'json') return void ws.close(GatewayClose.DecodeError, 'Only JSON encoding is emulated');
    ws.on('message', (data, isBinary) => this.#received(connection, data, isBinary));
    this.#send(connection, { op: Op.Hello, d: { heartbeat_interval: this.options.heartbeatIntervalMs } });
  }

  #closed(connection: Connection, code: number): void {
    this.#connections.delete(connection);
    const session = connection.session;
    if (!session || this.#live.get(session.id) !== connection) return;
    this.#live.delete(session.id);
    session.connected = false;
    session.closeCodes.push(code);
    // A clean close ends the session on Discord; any other code leaves it resumable.
    if (code === 1000 || code === 1001) session.ended = true;
    this.options.feed.notify();
  }

  #received(connection: Connection, raw: RawData, isBinary: boolean): void {
    if (isBinary) return void connection.ws.close(GatewayClose.DecodeError, 'Binary frames are not emulated');
    let payload: unknown;
    try {
      payload = JSON.parse(rawText(raw));
    } catch {
      return void connection.ws.close(GatewayClose.DecodeError, 'Error while decoding payload.');
    }
    if (!isRecord(payload) || typeof payload['op'] !== 'number') {
      return void connection.ws.close(GatewayClose.DecodeError, 'Error while decoding payload.');
    }
    const d = payload['d'];
    switch (payload['op']) {
      case Op.Heartbeat:
        if (connection.session) connection.session.heartbeats += 1;
        this.#send(connection, { op: Op.HeartbeatAck });
        return;
      case Op.Identify:
        return this.#identify(connection, d);
      case Op.Resume:
        return this.#resume(connection, d);
    }
    const session = connection.session;
    if (!session) return void connection.ws.close(GatewayClose.NotAuthenticated, 'Not authenticated.');
    switch (payload['op']) {
      case Op.PresenceUpdate:
      case Op.VoiceStateUpdate:
        return;
      case Op.RequestGuildMembers:
        if (!isRecord(d)) return void connection.ws.close(GatewayClose.DecodeError, 'Error while decoding payload.');
        for (const chunk of this.options.world.memberChunks(session, d)) {
          this.dispatch('GUILD_MEMBERS_CHUNK', chunk, { sessionId: session.id });
        }
        return;
      default:
        connection.ws.close(GatewayClose.UnknownOpcode, 'Unknown opcode.');
    }
  }

  #identify(connection: Connection, d: unknown): void {
    if (this.#heldIdentifies !== undefined) {
      this.#heldIdentifies.push(() => {
        if (connection.ws.readyState === connection.ws.OPEN) this.#identify(connection, d);
      });
      return;
    }
    const ws = connection.ws;
    if (connection.session) return void ws.close(GatewayClose.AlreadyAuthenticated, 'Already authenticated.');
    if (!isRecord(d) || !this.#tokenMatches(d['token'])) {
      return void ws.close(GatewayClose.AuthenticationFailed, 'Authentication failed.');
    }
    const intents = d['intents'];
    if (typeof intents !== 'number' || !Number.isInteger(intents) || intents < 0) {
      return void ws.close(GatewayClose.InvalidIntents, 'Invalid intent(s).');
    }
    if (intents & PRIVILEGED_INTENTS & ~this.options.enabledPrivilegedIntents) {
      return void ws.close(GatewayClose.DisallowedIntents, 'Disallowed intent(s).');
    }
    const shard = d['shard'] ?? [0, 1];
    if (!validShard(shard)) return void ws.close(GatewayClose.InvalidShard, 'Invalid shard.');
    const session: GatewaySession = {
      id: randomUUID().replaceAll('-', ''),
      shard: [shard[0], shard[1]],
      intents,
      properties: isRecord(d['properties']) ? d['properties'] : {},
      compress: d['compress'] === true,
      largeThreshold: typeof d['large_threshold'] === 'number' ? d['large_threshold'] : null,
      connected: true,
      ended: false,
      seq: 0,
      initialGuildIds: [],
      dispatched: [],
      heartbeats: 0,
      resumes: 0,
      closeCodes: [],
    };
    connection.session = session;
    this.sessions.push(session);
    this.#live.set(session.id, connection);
    this.dispatch('READY', this.options.world.readyPayload(session), { sessionId: session.id });
    for (const { guildId, data } of this.options.world.guildCreates(session)) {
      session.initialGuildIds.push(guildId);
      this.dispatch('GUILD_CREATE', data, { sessionId: session.id });
    }
    this.options.feed.notify();
  }

  #resume(connection: Connection, d: unknown): void {
    if (connection.session) return void connection.ws.close(GatewayClose.AlreadyAuthenticated, 'Already authenticated.');
    const session = isRecord(d) ? this.sessions.find((s) => s.id === d['session_id']) : undefined;
    const seq = isRecord(d) && typeof d['seq'] === 'number' ? d['seq'] : -1;
    if (!isRecord(d) || !this.#tokenMatches(d['token']) || !session || session.ended || seq > session.seq) {
      this.#send(connection, { op: Op.InvalidSession, d: false });
      return;
    }
    const previous = this.#live.get(session.id);
    if (previous) {
      previous.session = null;
      previous.ws.close(GatewayClose.UnknownError, 'Session resumed elsewhere');
    }
    connection.session = session;
    session.connected = true;
    session.resumes += 1;
    this.#live.set(session.id, connection);
    for (const event of session.dispatched.filter((e) => e.s > seq)) {
      this.#send(connection, { op: Op.Dispatch, t: event.t, s: event.s, d: event.d });
    }
    this.dispatch('RESUMED', null, { sessionId: session.id });
    this.options.feed.notify();
  }

  #tokenMatches(token: unknown): boolean {
    return typeof token === 'string' && token.replace(/^Bot\s+/i, '') === this.options.botToken;
  }

  /** Sends (or buffers for resume, when disconnected) an event; returns how many sessions got it. */
  dispatch(event: string, data: DispatchData, target: DispatchTarget = {}): number {
    let reached = 0;
    for (const session of this.sessions) {
      if (session.ended || !routes(session, target)) continue;
      const d = typeof data === 'function' ? (data as (s: GatewaySession) => unknown)(session) : data;
      if (d === undefined) continue;
      session.seq += 1;
      session.dispatched.push({ t: event, s: session.seq, at: this.options.clock.now(), d });
      const connection = this.#live.get(session.id);
      if (connection) this.#send(connection, { op: Op.Dispatch, t: event, s: session.seq, d });
      reached += 1;
    }
    if (reached > 0) this.options.feed.notify();
    return reached;
  }

  /** Asks the client to reconnect and resume (op 7). */
  requestReconnect(sessionId: string): void {
    const connection = this.#connectionOf(sessionId);
    this.#send(connection, { op: Op.Reconnect, d: null });
  }

  /** Tells the client its session is invalid (op 9). */
  invalidateSession(sessionId: string, resumable: boolean): void {
    const connection = this.#connectionOf(sessionId);
    if (!resumable) this.#sessionById(sessionId).ended = true;
    this.#send(connection, { op: Op.InvalidSession, d: resumable });
  }

  /** Closes a session's socket from the server side, e.g. 4000 to make the client resume. */
  dropConnection(sessionId: string, code: number = GatewayClose.UnknownError): void {
    this.#connectionOf(sessionId).ws.close(code, 'Closed by the emulator');
  }

  /**
   * The gateway becomes unreachable: every connection is cut without a close
   * frame (the client sees 1006, as on a network failure) and new ones are
   * reset, until `restore()`. Sessions stay resumable.
   */
  outage(): void {
    this.#down = true;
    for (const connection of this.#connections) connection.ws.terminate();
  }

  /** Ends an `outage()`: connections are accepted again. */
  restore(): void {
    this.#down = false;
  }

  /** IDENTIFY gets no READY until `releaseIdentify()`, as when Discord is slow to start sessions. */
  holdIdentify(): void {
    this.#heldIdentifies ??= [];
  }

  /** Answers the held IDENTIFYs, and every later one at once. */
  releaseIdentify(): void {
    const held = this.#heldIdentifies ?? [];
    this.#heldIdentifies = undefined;
    for (const answer of held) answer();
  }

  close(): Promise<void> {
    for (const connection of this.#connections) connection.ws.terminate();
    return new Promise((resolve) => this.#wss.close(() => resolve()));
  }

  #sessionById(sessionId: string): GatewaySession {
    const session = this.sessions.find((s) => s.id === sessionId);
    if (!session) throw new Error(`Unknown gateway session ${sessionId}`);
    return session;
  }

  #connectionOf(sessionId: string): Connection {
    this.#sessionById(sessionId);
    const connection = this.#live.get(sessionId);
    if (!connection) throw new Error(`Gateway session ${sessionId} is not connected`);
    return connection;
  }

  #send(connection: Connection, payload: JsonObject): void {
    if (connection.ws.readyState === connection.ws.OPEN) connection.ws.send(JSON.stringify(payload));
  }
}

function routes(session: GatewaySession, target: DispatchTarget): boolean {
  if (target.sessionId !== undefined && session.id !== target.sessionId) return false;
  if (target.intent !== undefined && !(session.intents & target.intent)) return false;
  const [shardId, shardCount] = session.shard;
  if (target.guildId === null) return shardId === 0;
  if (target.guildId !== undefined) return shardOfGuild(target.guildId, shardCount) === shardId;
  return true;
}

function validShard(shard: unknown): shard is [number, number] {
  if (!Array.isArray(shard) || shard.length !== 2) return false;
  const [id, count] = shard as unknown[];
  return Number.isInteger(id) && Number.isInteger(count) && (count as number) >= 1 && (id as number) >= 0 && (id as number) < (count as number);
}

function rawText(raw: RawData): string {
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  return Buffer.from(raw instanceof ArrayBuffer ? new Uint8Array(raw) : raw).toString('utf8');
}
