/**
 * The summarizer: resolves the guild's prompt, answers an identical earlier
 * request from storage, and otherwise summarizes the conversation in one
 * call or, when it does not fit the model's window, by map-reduce. The
 * conversation always travels in the user turn as delimited data.
 */
import { formatForModel } from '../conversation/format-for-model.ts';
import type { PreparedConversation } from '../conversation/prepare.ts';
import type { PromptResolver } from '../prompts/resolver.ts';
import type { ResolvedPrompt } from '../prompts/types.ts';
import { estimateTokens } from '../llm/provider-spec/contract.ts';
import type { Clock } from '../resilience/clock.ts';
import { fitAnswerToWindow, outputBudget, type OutputBudgetOptions } from './budgets.ts';
import { RequestCalls } from './calls.ts';
import { resolveCitations } from './citations.ts';
import { SummarizeError, fromRouterFailure } from './errors.ts';
import { messageOf } from '../log/error-message.ts';
import { summarySystem } from './instructions.ts';
import { mapReduce } from './map-reduce.ts';
import { sha256, summaryRequestKey } from './request-key.ts';
import { judgeReuse, preferFirst, type TargetStanding } from './reuse-policy.ts';
import type { StoredSummary, SummaryStore } from './store.ts';
import { summaryChoices, summaryContext } from './summary-context.ts';
import { messageAttachments, transcriptDigest } from './transcript.ts';
import { NO_PLUGIN_HOOKS, type PluginHooks } from '../hooks/plugin-hooks.ts';
import {
  promptReport,
  type ContextWindowFor,
  type EngineLogger,
  type EngineRouter,
  type PromptReport,
  type SummarizeOptions,
  type SummaryRequestOptions,
  type SummaryResult,
} from './types.ts';

export interface SummarizerOptions {
  /** Map calls running at once (default 4). */
  mapConcurrency?: number;
  /** Most partial summaries combined in one call (default 8). */
  reduceFanIn?: number;
  /** Answer budget of each partial summary (default 600 tokens). */
  mapOutputTokens?: number;
  /** Answer budget of the final summary, by type. */
  outputTokens?: OutputBudgetOptions;
  /** Rounds of combining before giving up (default 6: 8^6 parts). */
  maxReduceRounds?: number;
}

interface SummarizerDeps {
  resolver: PromptResolver;
  router: EngineRouter;
  /** Tokens available to the model the router will choose for a task (from the plan). */
  contextWindowFor: ContextWindowFor;
  store: SummaryStore;
  /**
   * The plan's targets and which could be called now (the LLM service's
   * `targetStanding`). A stored summary is reused only when it came from the
   * best callable target or a better one (see reuse-policy.ts). Without it,
   * any stored summary of the same request is reused.
   */
  standing?: TargetStanding;
  clock: Clock;
  logger: EngineLogger;
  /** The plugins' summary.before and summary.after hooks; default none. */
  hooks?: PluginHooks;
  options?: SummarizerOptions;
}

export interface Summarizer {
  /** @throws SummarizeError (kind says why; details say how many parts were finished). */
  summarize(conversation: PreparedConversation, options: SummarizeOptions): Promise<SummaryResult>;
}

const DEFAULT_MAP_CONCURRENCY = 4;
const DEFAULT_REDUCE_FAN_IN = 8;
const DEFAULT_MAP_OUTPUT_TOKENS = 600;

export function createSummarizer(deps: SummarizerDeps): Summarizer {
  const { resolver, router, store, clock, logger } = deps;
  const hooks = deps.hooks ?? NO_PLUGIN_HOOKS;
  const settings = {
    concurrency: positive(deps.options?.mapConcurrency, DEFAULT_MAP_CONCURRENCY, 'mapConcurrency'),
    fanIn: Math.max(2, positive(deps.options?.reduceFanIn, DEFAULT_REDUCE_FAN_IN, 'reduceFanIn')),
    mapOutputTokens: positive(deps.options?.mapOutputTokens, DEFAULT_MAP_OUTPUT_TOKENS, 'mapOutputTokens'),
    maxRounds: positive(deps.options?.maxReduceRounds, 6, 'maxReduceRounds'),
    outputTokens: deps.options?.outputTokens ?? {},
  };

  async function summarize(prepared: PreparedConversation, options: SummarizeOptions): Promise<SummaryResult> {
    const first = prepared.messages[0];
    const last = prepared.messages.at(-1);
    if (first === undefined || last === undefined) throw new SummarizeError('empty', nothingToSummarize(prepared, options.channelName));
    if (options.signal?.aborted) throw new SummarizeError('aborted', 'the request was cancelled before it started');

    const now = clock.now();
    const resolved = await resolver.resolve(options.guildId, summaryContext(options, now, prepared));
    const prompt = promptReport(resolved);
    const { type, perspective, category } = summaryChoices(options);
    const requestOptions: SummaryRequestOptions = { type, perspective, category, locale: options.locale ?? null };
    const requestKey = summaryRequestKey({
      guildId: options.guildId ?? null,
      channelId: options.channelId,
      firstMessageId: first.id,
      lastMessageId: last.id,
      messageCount: prepared.messages.length,
      options: requestOptions,
      prompt,
      promptSha256: sha256(resolved.content),
      transcriptSha256: transcriptDigest(prepared),
    });
    const { notes } = await hooks.run('summary.before', {
      guildId: options.guildId ?? null,
      channelId: options.channelId,
      channelName: options.channelName,
      ...requestOptions,
      messageCount: prepared.messages.length,
      userId: options.userId ?? null,
      correlationId: options.correlationId,
    });
    const standing = standingFor(resolved);
    const earlier = await findEarlier(requestKey, options.correlationId);
    if (earlier !== undefined) {
      const verdict = standing === undefined ? { reuse: true as const } : judgeReuse(earlier, standing('summarize', options.guildId));
      if (verdict.reuse) return finished(reusedResult(earlier, notes), options, requestOptions);
      logger.debug({ correlationId: options.correlationId, reason: verdict.reason }, 'not reusing the stored summary; asking again');
    }

    const calls = new RequestCalls({
      router,
      parameters: resolved.parameters,
      correlationId: options.correlationId,
      guildId: options.guildId,
      userId: options.userId,
      signal: options.signal,
    });
    const produced = await produce(prepared, options, resolved, prompt, requestOptions, calls, standing);
    const warnings = unique([...resolved.warnings, ...produced.warnings, ...calls.warnings, ...notes]);
    const { citations, unknown } = resolveCitations(produced.text, prepared.citations, {
      channelId: options.channelId,
      guildId: options.guildId,
    });
    if (unknown.length > 0) {
      warnings.push(`the summary cites ${unknown.length === 1 ? 'a number' : 'numbers'} that no message has (${unknown.slice(0, 5).map((r) => `[${r}]`).join(', ')}); ${unknown.length === 1 ? 'it is' : 'they are'} not linked`);
    }
    const answeredBy = calls.last ?? { provider: 'unknown', model: 'unknown' };
    const result: SummaryResult = {
      text: produced.text,
      citations,
      prompt,
      provider: answeredBy.provider,
      model: answeredBy.model,
      usage: { inputTokens: calls.inputTokens, outputTokens: calls.outputTokens },
      costUsd: calls.costUsd,
      messages: prepared.messages.length,
      chunks: produced.chunks,
      warnings,
      reused: false,
      summaryId: null,
    };
    result.summaryId = await save(result, {
      requestKey,
      requestOptions,
      guildId: options.guildId ?? null,
      channelId: options.channelId,
      firstMessageId: first.id,
      lastMessageId: last.id,
      createdBy: options.userId ?? null,
      correlationId: options.correlationId,
      // A stored answer judged not reusable is replaced by this better one.
      replace: earlier !== undefined,
    });
    return finished(result, options, requestOptions);
  }

  /** Shows the finished summary to the summary.after hooks, then hands it back. */
  async function finished(result: SummaryResult, options: SummarizeOptions, requestOptions: SummaryRequestOptions): Promise<SummaryResult> {
    await hooks.run('summary.after', {
      guildId: options.guildId ?? null,
      guildName: options.guildName ?? null,
      channelId: options.channelId,
      channelName: options.channelName,
      summaryId: result.summaryId,
      text: result.text,
      citations: result.citations,
      type: requestOptions.type,
      perspective: requestOptions.perspective,
      locale: requestOptions.locale,
      provider: result.provider,
      model: result.model,
      messages: result.messages,
      chunks: result.chunks,
      costUsd: result.costUsd,
      reused: result.reused,
      prompt: { level: result.prompt.level, repo: result.prompt.repo, commit: result.prompt.commit, path: result.prompt.path },
      warnings: result.warnings,
      userId: options.userId ?? null,
      correlationId: options.correlationId,
      finishedAt: new Date(clock.now()).toISOString(),
    });
    return result;
  }

  async function produce(
    prepared: PreparedConversation,
    options: SummarizeOptions,
    resolved: ResolvedPrompt,
    prompt: PromptReport,
    requestOptions: SummaryRequestOptions,
    calls: RequestCalls,
    standing: TargetStanding | undefined,
  ): Promise<{ text: string; chunks: number; warnings: string[] }> {
    const window = deps.contextWindowFor('summarize', options.guildId);
    // No callable target reports a window: the providers are down, the conversation is not too large.
    if (window <= 0) {
      throw new SummarizeError('unavailable', 'no language-model provider is available right now', { chunksDone: 0, chunksTotal: 0 });
    }
    const finalMaxTokens = fitAnswerToWindow(outputBudget(requestOptions.type, resolved.parameters.max_tokens, settings.outputTokens), window);
    const system = summarySystem(resolved.content, 'single');
    const turn = formatForModel(prepared);
    if (estimateTokens(system) + estimateTokens(turn) + finalMaxTokens <= window) {
      options.onProgress?.({ stage: 'single' });
      try {
        const answer = await calls.call({
          task: 'summarize',
          system,
          turn,
          maxTokens: finalMaxTokens,
          attachments: { task: 'summarize', summaryType: requestOptions.type, perspective: requestOptions.perspective, messages: messageAttachments(prepared.messages) },
        });
        return { text: answer.text, chunks: 1, warnings: [] };
      } catch (error) {
        throw fromRouterFailure(error, undefined, { chunksDone: 0, chunksTotal: 1 });
      }
    }
    const mapWindow = deps.contextWindowFor('summarize-map', options.guildId);
    return mapReduce({
      prepared,
      promptText: resolved.content,
      prompt,
      requestOptions,
      guildId: options.guildId,
      summaryType: requestOptions.type,
      calls,
      store,
      standing,
      logger,
      correlationId: options.correlationId,
      mapWindow,
      reduceWindow: window,
      mapMaxTokens: fitAnswerToWindow(settings.mapOutputTokens, Math.min(mapWindow, window)),
      finalMaxTokens,
      concurrency: settings.concurrency,
      fanIn: settings.fanIn,
      maxRounds: settings.maxRounds,
      signal: options.signal,
      onProgress: options.onProgress,
    });
  }

  /** The targets in the order the router will try them for this prompt. */
  function standingFor(resolved: ResolvedPrompt): TargetStanding | undefined {
    const base = deps.standing;
    if (base === undefined) return undefined;
    const preferred = { provider: resolved.parameters.provider, model: resolved.parameters.model };
    return (task, guildId) => preferFirst(base(task, guildId), preferred);
  }

  /** A storage failure only costs the reuse. */
  async function findEarlier(requestKey: string, correlationId: string): Promise<StoredSummary | undefined> {
    try {
      return await store.findSummary(requestKey);
    } catch (error) {
      logger.warn({ err: messageOf(error), correlationId }, 'could not look up earlier summaries; summarizing anew');
      return undefined;
    }
  }

  async function save(
    result: SummaryResult,
    request: {
      requestKey: string;
      requestOptions: SummaryRequestOptions;
      guildId: string | null;
      channelId: string;
      firstMessageId: string;
      lastMessageId: string;
      createdBy: string | null;
      correlationId: string;
      replace: boolean;
    },
  ): Promise<string | null> {
    try {
      return await store.saveSummary(
        {
          guildId: request.guildId,
          channelId: request.channelId,
          firstMessageId: request.firstMessageId,
          lastMessageId: request.lastMessageId,
          messageCount: result.messages,
          options: request.requestOptions,
          requestKey: request.requestKey,
          prompt: result.prompt,
          provider: result.provider,
          model: result.model,
          usage: result.usage,
          costUsd: result.costUsd,
          text: result.text,
          citations: result.citations,
          chunks: result.chunks,
          warnings: result.warnings,
          createdAt: new Date(clock.now()),
          createdBy: request.createdBy,
        },
        { replace: request.replace },
      );
    } catch (error) {
      logger.warn({ err: messageOf(error), correlationId: request.correlationId }, 'could not store the summary');
      return null;
    }
  }

  return { summarize };
}

function reusedResult({ id, text, citations, prompt, provider, model, messageCount, chunks, warnings }: StoredSummary, notes: readonly string[]): SummaryResult {
  return {
    text,
    citations,
    prompt,
    provider,
    model,
    usage: { inputTokens: 0, outputTokens: 0 },
    costUsd: 0,
    messages: messageCount,
    chunks,
    warnings: unique([...warnings, ...notes]),
    reused: true,
    summaryId: id,
  };
}

/** "nothing to summarize: …", saying why the conversation came out empty. */
export function nothingToSummarize(prepared: PreparedConversation, channelName: string): string {
  return `nothing to summarize: ${describeEmpty(prepared, channelName)}`;
}

function describeEmpty(prepared: PreparedConversation, channelName: string): string {
  const { input, dropped } = prepared.stats;
  const where = `#${channelName}`;
  if (input === 0) return `${where} has no messages in the requested range`;
  const reasons = [
    dropped['outside-window'] > 0 ? `${dropped['outside-window']} outside the time window` : '',
    dropped.bot > 0 ? `${dropped.bot} from bots` : '',
    dropped.empty > 0 ? `${dropped.empty} with no text` : '',
    dropped.duplicate > 0 ? `${dropped.duplicate} duplicates` : '',
    dropped['over-cap'] > 0 ? `${dropped['over-cap']} over the message limit` : '',
  ].filter((r) => r !== '');
  return `none of the ${input} message${input === 1 ? '' : 's'} in ${where} can be summarized${reasons.length > 0 ? ` (${reasons.join(', ')})` : ''}`;
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`summarizer option ${name} must be a positive whole number, got ${value}`);
  return value;
}
