/**
 * Everything that happens to one interaction: its callback, every state of its original message,
 * follow-ups, uploaded files and refused calls, with waits for tests.
 */
import type { ChangeFeed } from './change-feed.ts';
import { MessageFlag, type ApiMessage, type JsonObject, type RecordedFile } from './model.ts';

export type InteractionKind = 'command' | 'autocomplete' | 'button' | 'select' | 'modal-submit';

export const CallbackType = {
  Pong: 1,
  ChannelMessageWithSource: 4,
  DeferredChannelMessageWithSource: 5,
  DeferredUpdateMessage: 6,
  UpdateMessage: 7,
  AutocompleteResult: 8,
  Modal: 9,
} as const;

export interface RecordedCallback {
  type: number;
  data: JsonObject | undefined;
  /** ms after the interaction was created (by the emulator's clock). */
  atMs: number;
  files: RecordedFile[];
}

export interface OriginalSnapshot {
  message: ApiMessage;
  atMs: number;
  /** True for the placeholder after a defer (type 5 "thinking…", type 6 untouched message). */
  pending: boolean;
  via: 'callback' | 'edit' | 'follow-up';
  files: RecordedFile[];
}

export interface RecordedFollowUp {
  /** Current state (live; edits show here). */
  message: ApiMessage;
  atMs: number;
  files: RecordedFile[];
  /** Every state, the first being the creation. */
  history: { message: ApiMessage; atMs: number }[];
  deleted: boolean;
}

export interface RejectedCall {
  route: string;
  status: number;
  code: number;
  message: string;
  atMs: number;
}

const DEFAULT_WAIT_MS = 5_000;

export class InteractionHandle {
  callback: RecordedCallback | undefined;
  readonly originalHistory: OriginalSnapshot[] = [];
  originalDeleted = false;
  readonly followUps: RecordedFollowUp[] = [];
  readonly rejections: RejectedCall[] = [];
  /** The live original message (shared with the channel history when not ephemeral). */
  #original: ApiMessage | undefined;

  constructor(
    readonly kind: InteractionKind,
    /** The INTERACTION_CREATE `d` sent over the gateway. */
    readonly payload: JsonObject,
    readonly createdAt: number,
    /** For components: the live message the component sits on. */
    readonly componentMessage: ApiMessage | undefined,
    private readonly feed: ChangeFeed,
    private readonly now: () => number,
  ) {}

  get id(): string {
    return String(this.payload['id']);
  }

  get token(): string {
    return String(this.payload['token']);
  }

  get channelId(): string {
    const channel = this.payload['channel'];
    return typeof channel === 'object' && channel !== null ? String((channel as JsonObject)['id']) : '';
  }

  get acknowledged(): boolean {
    return this.callback !== undefined;
  }

  /** The current original message, or undefined before a message callback or after deletion. */
  get original(): ApiMessage | undefined {
    return this.originalDeleted || !this.#original ? undefined : structuredClone(this.#original);
  }

  /** Every file uploaded for this interaction, in order. */
  get files(): RecordedFile[] {
    return [
      ...(this.callback?.files ?? []),
      ...this.originalHistory.filter((s) => s.via === 'edit').flatMap((s) => s.files),
      ...this.followUps.flatMap((f) => f.files),
    ];
  }

  // ---- recording (used by the emulator's REST routes) ----

  elapsed(): number {
    return this.now() - this.createdAt;
  }

  liveOriginal(): ApiMessage | undefined {
    return this.originalDeleted ? undefined : this.#original;
  }

  recordCallback(type: number, data: JsonObject | undefined, files: RecordedFile[], original: ApiMessage | undefined, pending: boolean): void {
    this.callback = { type, data, atMs: this.elapsed(), files };
    if (original) {
      this.#original = original;
      this.originalHistory.push({ message: structuredClone(original), atMs: this.callback.atMs, pending, via: 'callback', files });
    }
    this.feed.notify();
  }

  recordOriginalChange(via: 'edit' | 'follow-up', files: RecordedFile[]): void {
    if (!this.#original) return;
    this.originalHistory.push({ message: structuredClone(this.#original), atMs: this.elapsed(), pending: false, via, files });
    this.feed.notify();
  }

  recordOriginalDeleted(): void {
    this.originalDeleted = true;
    this.feed.notify();
  }

  recordFollowUp(message: ApiMessage, files: RecordedFile[]): void {
    const atMs = this.elapsed();
    this.followUps.push({ message, atMs, files, history: [{ message: structuredClone(message), atMs }], deleted: false });
    this.feed.notify();
  }

  recordFollowUpEdit(followUp: RecordedFollowUp, files: RecordedFile[]): void {
    followUp.files.push(...files);
    followUp.history.push({ message: structuredClone(followUp.message), atMs: this.elapsed() });
    this.feed.notify();
  }

  recordFollowUpDeleted(followUp: RecordedFollowUp): void {
    followUp.deleted = true;
    this.feed.notify();
  }

  recordRejection(route: string, status: number, body: JsonObject): void {
    this.rejections.push({
      route,
      status,
      code: typeof body['code'] === 'number' ? body['code'] : 0,
      message: typeof body['message'] === 'string' ? body['message'] : '',
      atMs: this.elapsed(),
    });
    this.feed.notify();
  }

  // ---- waiting (for tests) ----

  waitFor<T>(probe: (handle: this) => T | undefined | null | false, timeoutMs = DEFAULT_WAIT_MS, what = 'a condition'): Promise<T> {
    return this.feed.waitFor(() => probe(this), timeoutMs, () => `${what} on interaction ${this.id} (${this.describe()})`);
  }

  waitForCallback(timeoutMs?: number): Promise<RecordedCallback> {
    return this.waitFor((h) => h.callback, timeoutMs, 'a callback');
  }

  /** The first visible answer: the type 4/7 message, or the first edit after a defer. */
  waitForReply(timeoutMs?: number): Promise<ApiMessage> {
    return this.waitFor((h) => h.originalHistory.find((s) => !s.pending)?.message, timeoutMs, 'a reply');
  }

  /** Waits until the current original message (no longer pending) satisfies `predicate`. */
  waitForFinal(predicate: (message: ApiMessage) => boolean = () => true, timeoutMs?: number): Promise<ApiMessage> {
    return this.waitFor(
      (h) => {
        const last = h.originalHistory[h.originalHistory.length - 1];
        const current = h.original;
        return last && !last.pending && current && predicate(current) ? current : undefined;
      },
      timeoutMs,
      'the original message to match',
    );
  }

  waitForFollowUp(predicate: (message: ApiMessage) => boolean = () => true, timeoutMs?: number): Promise<ApiMessage> {
    return this.waitFor((h) => h.followUps.find((f) => predicate(f.message))?.message, timeoutMs, 'a follow-up');
  }

  /** The modal shown (callback type 9): `{ custom_id, title, components }`. */
  waitForModal(timeoutMs?: number): Promise<JsonObject> {
    return this.waitFor((h) => (h.callback?.type === CallbackType.Modal ? h.callback.data : undefined), timeoutMs, 'a modal');
  }

  /** Autocomplete choices (callback type 8). */
  waitForChoices(timeoutMs?: number): Promise<JsonObject[]> {
    return this.waitFor(
      (h) => (h.callback?.type === CallbackType.AutocompleteResult ? ((h.callback.data?.['choices'] as JsonObject[] | undefined) ?? []) : undefined),
      timeoutMs,
      'autocomplete choices',
    );
  }

  waitForRejection(timeoutMs?: number): Promise<RejectedCall> {
    return this.waitFor((h) => h.rejections[0], timeoutMs, 'a refused call');
  }

  /** A one-line summary for timeout messages. */
  describe(): string {
    const original = this.original;
    return [
      `kind=${this.kind}`,
      `callback=${this.callback ? this.callback.type : 'none'}`,
      `edits=${this.originalHistory.length}`,
      `followUps=${this.followUps.length}`,
      `rejections=${this.rejections.map((r) => `${r.status}/${r.code}`).join(',') || 'none'}`,
      original ? `original=${JSON.stringify(original.content.slice(0, 80))}${original.flags & MessageFlag.Loading ? ' (loading)' : ''}` : '',
    ]
      .filter(Boolean)
      .join(' ');
  }
}

/** Interactions by id and token, with the timing rules Discord applies to them. */
export class InteractionRegistry {
  readonly all: InteractionHandle[] = [];
  readonly #byId = new Map<string, InteractionHandle>();
  readonly #byToken = new Map<string, InteractionHandle>();

  constructor(
    /** Callbacks later than this after creation get 404 Unknown interaction (Discord: 3 s). */
    readonly ackDeadlineMs: number,
    /** Webhook calls later than this get 401 Invalid Webhook Token (Discord: 15 min). */
    readonly tokenTtlMs: number,
  ) {}

  add(handle: InteractionHandle): void {
    this.all.push(handle);
    this.#byId.set(handle.id, handle);
    this.#byToken.set(handle.token, handle);
  }

  byId(id: string): InteractionHandle | undefined {
    return this.#byId.get(id);
  }

  byToken(token: string): InteractionHandle | undefined {
    return this.#byToken.get(token);
  }
}
