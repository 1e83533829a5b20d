/**
 * Real collaborators for engine tests: the bundled prompts through the real
 * resolver, the real router, and small providers that count tokens, enforce
 * their context window and answer from what they were sent (the references
 * they saw), so assertions check what really travelled.
 */
import type { Author, Conversation, Message } from '../../src/conversation/model.ts';
import type { DatabaseHandle } from '../../src/db/database.ts';
import type { PluginLogger } from '../../src/llm/plugin-host/types.ts';
import { loadLocalRepo } from '../../src/prompts/bundled.ts';
import { noPromptMetrics } from '../../src/prompts/metrics.ts';
import { PromptConfigStore } from '../../src/prompts/prompt-config-store.ts';
import { createPromptResolver, type PromptResolver } from '../../src/prompts/resolver.ts';
import { SnapshotCache } from '../../src/prompts/snapshot-cache.ts';
import { KyselySnapshotStore } from '../../src/prompts/snapshot-store.ts';
import { ProviderError, estimateTokens } from '../../src/llm/provider-spec/contract.ts';
import type { GenerateRequest, GenerateResponse, ModelInfo, Provider, StreamEvent } from '../../src/llm/provider-spec/contract.ts';
import { systemClock } from '../../src/resilience/clock.ts';
import { findModel } from '../../src/llm/router/targets.ts';
import { createRouter, type Router } from '../../src/llm/router/router.ts';
import { createSpendGuard } from '../../src/llm/router/spend-guard.ts';
import type { RouterOptions } from '../../src/llm/router/options.ts';
import type { Target, Task, UsageRecord } from '../../src/llm/router/types.ts';
import { textMessage } from '../helpers/conversation-messages.ts';
import { silentLogger } from '../helpers/databases.ts';

export async function bundledResolver(db: DatabaseHandle['db'], dir = 'prompts'): Promise<PromptResolver> {
  const bundled = await loadLocalRepo(dir);
  if (bundled.repo === null) throw new Error(`prompts in ${dir} failed to load: ${bundled.problems.map((p) => p.message).join('; ')}`);
  const cache = new SnapshotCache({
    store: new KyselySnapshotStore(db, 5_000_000),
    clock: systemClock,
    logger: silentLogger,
    limits: {},
    ttlMs: 60_000,
    maxStaleMs: 3_600_000,
    maxBytes: 10_000_000,
    failureBackoffMs: 30_000,
  });
  return createPromptResolver({
    // No guild has a repository configured here, so resolution stops at the bundled prompts.
    configs: new PromptConfigStore(db),
    cache,
    targetFor: () => {
      throw new Error('no guild repositories in engine tests');
    },
    bundled: bundled.repo,
    metrics: noPromptMetrics,
    logger: silentLogger,
    now: () => Date.now(),
  });
}

export interface SeenCall {
  task: string;
  system: string;
  turns: GenerateRequest['turns'];
  maxTokens: number;
  /** Transcript lines `[n] …` at the start of a line in the user turns. */
  refs: number[];
}

const LINE_REF = /^\[(\d+)\] /gm;
const ANY_REF = /\[(\d+)\]/g;

/**
 * A provider like a real backend from the router's side: it counts tokens,
 * refuses requests over its window, and can be in an outage after a number
 * of successful calls. Its answers are derived from its input.
 */
export class EchoProvider implements Provider {
  readonly requiresKey = false;
  readonly models: readonly ModelInfo[];
  readonly calls: SeenCall[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private successesLeft = Number.POSITIVE_INFINITY;
  private failingTasks = new Set<string>();

  constructor(
    readonly name: string,
    model: string,
    readonly contextWindow: number,
  ) {
    this.models = [{ id: model, contextWindow, maxOutputTokens: 4_096, streaming: false, inputPricePerMTok: 1, outputPricePerMTok: 2 }];
  }

  /** After `n` more successful calls, every call fails with a 500 until `heal()`. */
  failAfter(n: number): this {
    this.successesLeft = n;
    return this;
  }

  /** Calls whose attachments name this task fail with a 500. */
  failTask(task: string): this {
    this.failingTasks.add(task);
    return this;
  }

  heal(): void {
    this.successesLeft = Number.POSITIVE_INFINITY;
    this.failingTasks.clear();
  }

  callsFor(task: string): SeenCall[] {
    return this.calls.filter((c) => c.task === task);
  }

  async generate(request: GenerateRequest): Promise<GenerateResponse> {
    const task = request.attachments?.task ?? 'none';
    const where = { provider: this.name, model: request.model };
    const input = estimateTokens(request.system) + request.turns.reduce((n, t) => n + estimateTokens(t.content), 0);
    if (input + request.maxTokens > this.contextWindow) {
      throw new ProviderError('context_length', `prompt is too long: ${input} + ${request.maxTokens} > ${this.contextWindow}`, { ...where, status: 400 });
    }
    const user = request.turns.filter((t) => t.role === 'user').map((t) => t.content).join('\n');
    this.calls.push({ task, system: request.system, turns: request.turns, maxTokens: request.maxTokens, refs: [...user.matchAll(LINE_REF)].map((m) => Number(m[1])) });
    if (this.successesLeft <= 0 || this.failingTasks.has(task)) throw new ProviderError('server', 'internal error (simulated outage)', { ...where, status: 500 });
    this.successesLeft--;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      // Yield to the event loop like a network call, so concurrent calls overlap.
      await new Promise((resolve) => setImmediate(resolve));
      const text = fit(this.answer(task, request, user), request.maxTokens);
      return { text, finishReason: 'stop', usage: { inputTokens: input, outputTokens: estimateTokens(text) }, provider: this.name, model: request.model };
    } finally {
      this.inFlight--;
    }
  }

  private answer(task: string, request: GenerateRequest, user: string): string {
    if (task === 'chat') {
      const blocks = [...user.matchAll(/<member name="([^"]*)">\n([\s\S]*?)\n<\/member>/g)];
      const last = blocks.at(-1);
      // With channel history, cite every message it was sent, as a model drawing on them would.
      const cited = [...user.matchAll(LINE_REF)].map((m) => `[${m[1]}]`).join('');
      return `Answer to ${last?.[1] ?? '?'} about "${(last?.[2] ?? '').slice(0, 40)}"${cited === '' ? '' : ` from ${cited}`}`;
    }
    if (task === 'summarize' && user.includes('<turns>')) {
      const asked = [...user.matchAll(/<member name="([^"]*)">\n([\s\S]*?)\n<\/member>/g)].map((m) => `${m[1]} asked "${(m[2] ?? '').slice(0, 24)}"`);
      return `Earlier: ${asked.join('; ')}`;
    }
    if (task === 'summarize-reduce') {
      const refs = [...new Set([...user.matchAll(ANY_REF)].map((m) => Number(m[1])))];
      return `Combined ${(request.attachments?.partials ?? []).length} partials: ${refs.map((r) => `[${r}]`).join('')}`;
    }
    const refs = [...user.matchAll(LINE_REF)].map((m) => Number(m[1]));
    return `- ${refs.length} messages: ${refs.map((r) => `[${r}]`).join('')}`;
  }

  stream(request: GenerateRequest): AsyncIterable<StreamEvent> {
    return streamOf(this.generate(request));
  }

  async health() {
    return { ok: true };
  }
}

/** The stream of a provider that answers whole: the text at once, then the finish. */
export async function* streamOf(answer: Promise<GenerateResponse>): AsyncIterable<StreamEvent> {
  const response = await answer;
  yield { type: 'text', delta: response.text };
  yield { type: 'finish', finishReason: response.finishReason, usage: response.usage, provider: response.provider, model: response.model };
}

/** Cuts at a reference boundary to respect the answer budget, as a model stopping at max_tokens would. */
function fit(text: string, maxTokens: number): string {
  const max = maxTokens * 4;
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const lastClose = cut.lastIndexOf(']');
  return lastClose > 0 ? cut.slice(0, lastClose + 1) : cut;
}

export const quietLogger: PluginLogger & { warnings: object[] } = {
  warnings: [],
  debug: () => undefined,
  info: () => undefined,
  warn(obj: object) {
    this.warnings.push(obj);
  },
  error: () => undefined,
};

export interface TestRouter {
  router: Router;
  usage: UsageRecord[];
  /** What the service derives from the plan and the providers' model lists. */
  contextWindowFor(task: Task, guildId: string | undefined): number;
}

export function testRouter(providers: EchoProvider[], plan: Target[], options: RouterOptions = {}): TestRouter {
  const byName = new Map(providers.map((p) => [p.name, p] as const));
  const usage: UsageRecord[] = [];
  const router = createRouter({
    providers: { getProvider: (name) => byName.get(name) },
    plan: () => plan,
    keys: () => ({ source: 'none' }),
    spendGuard: createSpendGuard({ store: { spentToday: async () => 0, budgetFor: () => null }, clock: systemClock }),
    usage: { record: (entry) => void usage.push(entry) },
    clock: systemClock,
    random: () => 0.5,
    logger: quietLogger,
    sleep: async () => undefined,
    options: { retry: { rounds: 0 }, breaker: { failureThreshold: 1_000 }, ...options },
  });
  return {
    router,
    usage,
    contextWindowFor: () => {
      const first = plan[0];
      return first === undefined ? 0 : (findModel(byName.get(first.provider)?.models, first.model)?.contextWindow ?? 0);
    },
  };
}

// ---- conversations ----------------------------------------------------------------------------

export const GUILD = '700000000000000001';
export const CHANNEL = '700000000000000002';
export const T0 = Date.UTC(2024, 2, 1, 10, 0, 0);

const people: Author[] = [
  { id: '100000000000000001', displayName: 'Alice', bot: false },
  { id: '100000000000000002', displayName: 'Bob', bot: false },
  { id: '100000000000000003', displayName: 'Chandra', bot: false },
];

export function messageAt(index: number, content: string, extra: Partial<Message> = {}): Message {
  const id = String(1_200_000_000_000_000_000n + BigInt(index));
  return textMessage(id, people[index % people.length]!, T0 + index * 60_000, content, { jumpUrl: `https://discord.com/channels/${GUILD}/${CHANNEL}/${id}`, ...extra });
}

export function conversationOf(messages: Message[]): Conversation {
  return { source: { guildId: GUILD, guildName: 'Test Guild', channelId: CHANNEL, channelName: 'dev-chat' }, messages };
}

/** `count` messages of about `chars` characters each, distinct and deterministic. */
export function longConversation(count: number, chars: number): Conversation {
  const words = ['release', 'deploy', 'review', 'tests', 'budget', 'schema', 'rollback', 'design', 'latency', 'docs'];
  const messages: Message[] = [];
  for (let i = 0; i < count; i++) {
    let text = `message ${i}:`;
    for (let w = 0; text.length < chars; w++) text += ` ${words[(i * 7 + w * 3) % words.length]}`;
    messages.push(messageAt(i, text));
  }
  return conversationOf(messages);
}
