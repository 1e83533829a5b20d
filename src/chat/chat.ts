/**
 * Chat with the bot in a channel or thread. Memory lives in the database,
 * bounded by tokens: when it grows past the bound, the oldest exchanges are
 * folded into a running summary. If folding fails, the oldest turns are
 * trimmed to the bound instead, and the answer carries a warning saying so.
 *
 * When the caller brings the channels' recent history, the messages that
 * best match the question go with it as a numbered transcript, and the
 * answer's citations are resolved to those messages as a summary's are.
 * Memory keeps the answer without its numbers: they mean nothing to the
 * next question, which gets a transcript of its own.
 */
import type { PromptResolver } from '../prompts/resolver.ts';
import type { PromptContext } from '../prompts/types.ts';
import type { TaskRequest } from '../llm/router/types.ts';
import type { Clock } from '../resilience/clock.ts';
import { DEFAULT_MAX_OUTPUT_TOKENS } from '../summaries/budgets.ts';
import { EMPTY_MEMORY, foldTurn, memoryTokens, requestTurns, turnsToFold } from './chat-memory.ts';
import { ChatError, chatErrorFrom } from '../summaries/errors.ts';
import { messageOf } from '../log/error-message.ts';
import { CHAT_HISTORY_NOTE, CHAT_NOTE, FOLD_INSTRUCTION } from '../summaries/instructions.ts';
import { citationGroups, resolveCitations } from '../summaries/citations.ts';
import { NO_CONTEXT, retrieveContext, type ChannelHistory, type RetrievalLimits } from './channel-context.ts';
import type { ChatMemoryStore } from '../summaries/store.ts';
import { promptContext } from '../summaries/summary-context.ts';
import { NO_PLUGIN_HOOKS, type PluginHooks } from '../hooks/plugin-hooks.ts';
import {
  promptReport,
  type ChatMemory,
  type ChatTurn,
  type CitationLink,
  type EngineLogger,
  type EngineRouter,
  type PromptReport,
  type Usage,
} from '../summaries/types.ts';

export interface ChatOptions {
  /** Bound on the remembered conversation (running summary and turns), in tokens (default 6,000). */
  memoryTokens?: number;
  /** Answer budget when the prompt sets none (default 1,000). */
  answerTokens?: number;
  /** Budget of the running summary (default a quarter of the memory bound, at most 800). */
  foldTokens?: number;
  /** Longest question accepted, in characters (default 4,000, Discord's message limit). */
  maxQuestionChars?: number;
  /** How much of the channels' history goes with a question. */
  retrieval?: RetrievalLimits;
}

interface ChatDeps {
  resolver: PromptResolver;
  router: EngineRouter;
  memory: ChatMemoryStore;
  clock: Clock;
  logger: EngineLogger;
  /** The plugins' chat.before and chat.after hooks; default none. */
  hooks?: PluginHooks;
  options?: ChatOptions;
}

export interface ChatRequest {
  guildId: string;
  /** The channel, or the thread, the conversation lives in. */
  channelId: string;
  userId: string;
  userName: string;
  question: string;
  correlationId: string;
  signal?: AbortSignal;
  guildName?: string;
  channelName?: string;
  locale?: string;
  /** Recent history of the channels the question may be answered from; each one the asker may read. */
  history?: readonly ChannelHistory[];
}

export interface ChatAnswer {
  text: string;
  provider: string;
  model: string;
  /** The answer's call plus any folding call. */
  usage: Usage;
  costUsd: number;
  prompt: PromptReport;
  warnings: string[];
  /** The channel messages the answer cites, ascending by number. */
  citations: CitationLink[];
}

export interface Chat {
  /** @throws ChatError */
  ask(request: ChatRequest): Promise<ChatAnswer>;
  /** Forgets the channel's conversation; true when there was one. */
  reset(guildId: string, channelId: string): Promise<boolean>;
}

const DEFAULT_CHAT_MEMORY_TOKENS = 6_000;

export function createChat(deps: ChatDeps): Chat {
  const { resolver, router, memory: store, clock, logger } = deps;
  const hooks = deps.hooks ?? NO_PLUGIN_HOOKS;
  const bound = deps.options?.memoryTokens ?? DEFAULT_CHAT_MEMORY_TOKENS;
  const answerTokens = deps.options?.answerTokens ?? 1_000;
  const foldTokens = deps.options?.foldTokens ?? Math.max(50, Math.min(800, Math.floor(bound / 4)));
  const maxQuestionChars = deps.options?.maxQuestionChars ?? 4_000;
  if (!(bound > foldTokens)) throw new RangeError(`chat memoryTokens (${bound}) must be larger than foldTokens (${foldTokens})`);

  // One exchange at a time per conversation in this process, so two quick
  // questions do not both read the same memory and lose each other's turns.
  const queues = new Map<string, Promise<unknown>>();
  const serialized = <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const previous = queues.get(key) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.catch(() => undefined);
    queues.set(key, tail);
    void tail.then(() => {
      if (queues.get(key) === tail) queues.delete(key);
    });
    return run;
  };

  async function ask(request: ChatRequest): Promise<ChatAnswer> {
    const question = request.question.trim();
    if (question === '') throw new ChatError('invalid_question', 'the question is empty');
    if (question.length > maxQuestionChars) {
      throw new ChatError('invalid_question', `the question is ${question.length} characters long; the most accepted is ${maxQuestionChars}`);
    }
    return serialized(`${request.guildId}\u0000${request.channelId}`, () => exchange(request, question));
  }

  async function exchange(request: ChatRequest, question: string): Promise<ChatAnswer> {
    const { notes } = await hooks.run('chat.before', {
      guildId: request.guildId,
      channelId: request.channelId,
      userId: request.userId,
      question,
      correlationId: request.correlationId,
    });
    const warnings: string[] = [...notes];
    const now = clock.now();
    const memory = await loadMemory(request, warnings);
    const resolved = await resolver.resolve(request.guildId, chatPromptContext(request, now));
    warnings.push(...resolved.warnings);

    const parameters = resolved.parameters;
    const context = request.history === undefined ? NO_CONTEXT : retrieveContext(question, request.history, deps.options?.retrieval);
    const turns = requestTurns(memory, request.userName, question);
    const last = turns.at(-1);
    // The transcript goes in front of the question it was chosen for, as data like the question itself.
    if (context.block !== '' && last !== undefined) last.content = `${context.block}\n\n${last.content}`;
    const chatRequest: TaskRequest = {
      system: context.block === '' ? `${resolved.content}\n\n${CHAT_NOTE}` : `${resolved.content}\n\n${CHAT_NOTE}\n${CHAT_HISTORY_NOTE}`,
      turns,
      maxTokens: Math.max(1, Math.min(parameters.max_tokens ?? answerTokens, DEFAULT_MAX_OUTPUT_TOKENS)),
      attachments: { task: 'chat', question, ...(request.history === undefined ? {} : { messages: context.hits }) },
    };
    if (parameters.temperature !== undefined) chatRequest.temperature = parameters.temperature;
    if (parameters.provider !== undefined || parameters.model !== undefined) {
      chatRequest.preferred = {
        provider: parameters.provider,
        model: parameters.model,
      };
    }
    if (request.signal !== undefined) chatRequest.signal = request.signal;

    let response;
    try {
      response = await router.generate(chatRequest, { task: 'chat', guildId: request.guildId, userId: request.userId, correlationId: request.correlationId });
    } catch (error) {
      throw chatErrorFrom(error);
    }
    if (response.preferredIgnored !== undefined) {
      const asked = [parameters.provider, parameters.model].filter((x) => x !== undefined).join('/');
      warnings.push(`the prompt asks for model ${asked}, which is not available; used ${response.provider}/${response.model}`);
    }
    const usage = { ...response.usage };
    let costUsd = response.costUsd;
    const cited = resolveCitations(response.text, context.citations, { guildId: request.guildId, channelId: request.channelId });
    if (context.block !== '' && cited.unknown.length > 0) {
      const some = cited.unknown.slice(0, 5).map((r) => `[${r}]`).join(', ');
      warnings.push(`the answer cites ${cited.unknown.length === 1 ? 'a number' : 'numbers'} that no message has (${some}); ${cited.unknown.length === 1 ? 'it is' : 'they are'} not linked`);
    }

    const remembered: ChatTurn[] = [
      ...memory.turns,
      { role: 'user', author: request.userName, content: question, at: now },
      { role: 'assistant', content: withoutCitations(response.text), at: clock.now() },
    ];
    let next: ChatMemory = { runningSummary: memory.runningSummary, turns: remembered, tokens: memoryTokens(memory.runningSummary, remembered) };
    if (next.tokens > bound) {
      const folded = await fold(request, next, warnings);
      next = folded.memory;
      usage.inputTokens += folded.usage.inputTokens;
      usage.outputTokens += folded.usage.outputTokens;
      costUsd += folded.costUsd;
    }
    await saveMemory(request, next, warnings);
    await hooks.run('chat.after', {
      guildId: request.guildId,
      channelId: request.channelId,
      userId: request.userId,
      question,
      answer: response.text,
      provider: response.provider,
      model: response.model,
      costUsd,
      citations: cited.citations,
      correlationId: request.correlationId,
    });
    return {
      text: response.text,
      provider: response.provider,
      model: response.model,
      usage,
      costUsd,
      prompt: promptReport(resolved),
      warnings,
      citations: cited.citations,
    };
  }

  /** Folds the oldest exchanges into the running summary; on failure, trims them instead. */
  async function fold(
    request: ChatRequest,
    memory: ChatMemory,
    warnings: string[],
  ): Promise<{ memory: ChatMemory; usage: Usage; costUsd: number }> {
    // Fold down to half the room the turns have, so the next few questions need no folding.
    const room = bound - foldTokens;
    const cut = turnsToFold(memory.turns, Math.floor(room / 2));
    const old = memory.turns.slice(0, cut);
    const kept = memory.turns.slice(cut);
    const none = { inputTokens: 0, outputTokens: 0 };
    if (old.length === 0) return { memory: trimmed(memory.runningSummary, kept), usage: none, costUsd: 0 };
    try {
      const response = await router.generate(
        {
          system: FOLD_INSTRUCTION,
          turns: [{ role: 'user', content: foldTurn(memory.runningSummary, old) }],
          maxTokens: foldTokens,
          attachments: {
            task: 'summarize',
            summaryType: 'brief',
            messages: old.map((t, i) => ({
              ref: i + 1,
              author: t.role === 'user' ? (t.author ?? 'member') : 'assistant',
              content: t.content,
              timestamp: new Date(t.at).toISOString(),
            })),
          },
          signal: request.signal,
        },
        { task: 'summarize', guildId: request.guildId, userId: request.userId, correlationId: request.correlationId },
      );
      // A model that ignores its limit must not blow the bound.
      const summary = response.text.trim().slice(0, foldTokens * 4);
      return { memory: trimmed(summary, kept), usage: response.usage, costUsd: response.costUsd };
    } catch (error) {
      logger.warn({ err: messageOf(error), correlationId: request.correlationId }, 'could not fold chat memory; trimming the oldest turns');
      warnings.push(
        `the oldest ${old.length} chat turn${old.length === 1 ? ' was' : 's were'} dropped from memory: folding them into the running summary failed (${messageOf(error)})`,
      );
      return { memory: trimmed(memory.runningSummary, kept), usage: none, costUsd: 0 };
    }
  }

  /** Whatever happened before, memory leaves here within the bound (the latest exchange is cut last). */
  function trimmed(runningSummary: string, turns: ChatTurn[]): ChatMemory {
    let kept = turns;
    while (memoryTokens(runningSummary, kept) > bound && kept.length > 2) kept = kept.slice(1);
    while (kept[0]?.role === 'assistant' && kept.length > 1) kept = kept.slice(1);
    let summary = runningSummary;
    if (memoryTokens(summary, kept) > bound) summary = summary.slice(0, Math.max(0, (bound - memoryTokens('', kept)) * 4));
    return { runningSummary: summary, turns: kept, tokens: memoryTokens(summary, kept) };
  }

  async function loadMemory(request: ChatRequest, warnings: string[]): Promise<ChatMemory> {
    try {
      return (await store.load(request.guildId, request.channelId)) ?? EMPTY_MEMORY;
    } catch (error) {
      logger.warn({ err: messageOf(error), correlationId: request.correlationId }, 'could not load chat memory');
      warnings.push('earlier conversation could not be loaded; this answer does not take it into account');
      return EMPTY_MEMORY;
    }
  }

  async function saveMemory(request: ChatRequest, memory: ChatMemory, warnings: string[]): Promise<void> {
    try {
      await store.save(request.guildId, request.channelId, memory, new Date(clock.now()));
    } catch (error) {
      logger.warn({ err: messageOf(error), correlationId: request.correlationId }, 'could not save chat memory');
      warnings.push('this exchange could not be saved; the next question will not remember it');
    }
  }

  return {
    ask,
    reset: (guildId, channelId) => serialized(`${guildId}\u0000${channelId}`, () => store.clear(guildId, channelId)),
  };
}

/** Chat has its own prompt category and type; the rest is what any request has. */
function chatPromptContext(request: ChatRequest, now: number): PromptContext {
  return promptContext({ ...request, category: 'chat', type: 'chat' }, now);
}

/** The text with its citation numbers taken out. */
function withoutCitations(text: string): string {
  let out = '';
  let from = 0;
  for (const group of citationGroups(text)) {
    out += text.slice(from, group.index).replace(/ $/, '');
    from = group.index + group.written.length;
  }
  return out + text.slice(from);
}
