/**
 * Summaries of conversations longer than the model's window: summarize
 * consecutive parts in parallel (keeping the global reference numbers),
 * then combine the partial summaries, in rounds when they do not fit one
 * call either. Every finished partial is stored under a key of its content
 * and the prompt, so a retry after a provider failure starts where it stopped.
 */
import type { PreparedConversation, PreparedMessage } from '../conversation/prepare.ts';
import { RouterError } from '../llm/router/errors.ts';
import { estimateTokens } from '../llm/provider-spec/contract.ts';
import { runBounded } from './bounded.ts';
import type { CallOutcome, RequestCalls } from './calls.ts';
import { ChunkBudgetError, planChunks } from './chunking.ts';
import { SummarizeError, fromRouterFailure, kindOf } from './errors.ts';
import { messageOf } from '../log/error-message.ts';
import { partialsTurn, summarySystem, INTERMEDIATE_NOTE, type PartialForReduce } from './instructions.ts';
import { partialKey } from './request-key.ts';
import { judgeReuse, type TargetStanding } from './reuse-policy.ts';
import type { StoredChunk, SummaryStore } from './store.ts';
import { chunkTurn, mapRunContext, messageAttachments } from './transcript.ts';
import type { EngineLogger, EngineTask, PromptReport, SummarizeProgress, SummaryRequestOptions } from './types.ts';

interface MapReduceInput {
  prepared: PreparedConversation;
  /** The guild's rendered prompt. */
  promptText: string;
  prompt: PromptReport;
  requestOptions: SummaryRequestOptions;
  guildId: string | undefined;
  summaryType: string;
  calls: RequestCalls;
  store: SummaryStore;
  /** Which targets could answer now; a stored partial from a worse-ranked one is made again (see reuse-policy.ts). */
  standing?: TargetStanding | undefined;
  logger: EngineLogger;
  correlationId: string;
  /** Windows of the models serving map calls and combine calls. */
  mapWindow: number;
  reduceWindow: number;
  /** Answer budgets: of each partial, and of the final summary. */
  mapMaxTokens: number;
  finalMaxTokens: number;
  concurrency: number;
  fanIn: number;
  maxRounds: number;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: SummarizeProgress) => void) | undefined;
}

interface MapReduceOutcome {
  text: string;
  chunks: number;
  warnings: string[];
}

export async function mapReduce(input: MapReduceInput): Promise<MapReduceOutcome> {
  const warnings: string[] = [];
  const partials = await mapParts(input, warnings);
  const text = await reduceParts(input, partials, warnings);
  return { text, chunks: partials.length, warnings };
}

// ---- map ------------------------------------------------------------------------------------

async function mapParts(input: MapReduceInput, warnings: string[]): Promise<PartialForReduce[]> {
  const { prepared, calls } = input;
  const system = summarySystem(input.promptText, 'map');
  const context = mapRunContext(prepared);
  // The shared prefix (instructions, then the run's context) is what every map call repeats: the cacheable part.
  const systemTokens = estimateTokens(system) + estimateTokens(context);
  const budget = input.mapWindow - systemTokens - input.mapMaxTokens;
  let plan;
  try {
    plan = planChunks(prepared, budget, chunkTurn);
  } catch (error) {
    if (!(error instanceof ChunkBudgetError)) throw error;
    throw new SummarizeError(
      'too_large',
      `the model's context window (${input.mapWindow} tokens) is too small for the prompt (~${systemTokens} tokens) plus a ${input.mapMaxTokens}-token answer and any messages`,
    );
  }
  warnings.push(...plan.warnings);
  const total = plan.chunks.length;
  const keys = plan.chunks.map((chunk) => keyFor(input, 'map', chunk.turn));
  const { found: stored, stale } = await findStored(input, keys, 'summarize-map');
  const parts: Array<PartialForReduce[] | undefined> = plan.chunks.map((chunk, index) => {
    const text = stored.get(keys[index]!)?.text;
    return text === undefined ? undefined : [spanOfMessages(chunk.messages, text)];
  });
  const reused = parts.filter((t) => t !== undefined).length;
  let done = reused;
  input.onProgress?.({ stage: 'map', done, total, reused });

  /**
   * Maps one part. The estimate can be short of the model's real count (a
   * script it tokenizes densely, a different tokenizer): when every model
   * answers "too long", the part is halved and each half mapped instead.
   */
  const mapMessages = async (messages: PreparedMessage[], turn: string, key: string, replace: boolean): Promise<PartialForReduce[]> => {
    try {
      const answer = await calls.call({
        task: 'summarize-map',
        system,
        turn,
        context,
        maxTokens: input.mapMaxTokens,
        attachments: { task: 'summarize-map', summaryType: input.summaryType, perspective: input.requestOptions.perspective, messages: messageAttachments(messages) },
      });
      await saveStored(input, key, answer, replace);
      return [spanOfMessages(messages, answer.text)];
    } catch (error) {
      if (!(error instanceof RouterError && error.kind === 'context_too_large') || messages.length < 2) throw error;
      if (!warnings.includes(SPLIT_AGAIN)) warnings.push(SPLIT_AGAIN);
      const middle = Math.ceil(messages.length / 2);
      const halves = [messages.slice(0, middle), messages.slice(middle)];
      const mapped: PartialForReduce[] = [];
      for (const half of halves) {
        const halfTurn = chunkTurn(prepared, half);
        mapped.push(...(await mapMessages(half, halfTurn, keyFor(input, 'map', halfTurn), false)));
      }
      return mapped;
    }
  };

  const pending = plan.chunks.map((chunk, index) => ({ chunk, index })).filter(({ index }) => parts[index] === undefined);
  const outcome = await runBounded(
    pending,
    input.concurrency,
    async ({ chunk, index }) => {
      parts[index] = await mapMessages(chunk.messages, chunk.turn, keys[index]!, stale.has(keys[index]!));
      done++;
      input.onProgress?.({ stage: 'map', done, total, reused });
    },
    () => input.signal?.aborted === true,
  );
  if (outcome.error !== undefined || parts.some((t) => t === undefined)) {
    const cause = outcome.error ?? new SummarizeError('aborted', 'the request was cancelled');
    const kept = done > 0 ? `; the ${done} finished part${done === 1 ? ' is' : 's are'} kept, so trying again continues from there` : '';
    throw new SummarizeError(
      kindOf(cause),
      `summarizing stopped after ${done} of ${total} parts of the conversation${kept}: ${messageOf(cause)}`,
      { chunksDone: done, chunksTotal: total, cause },
    );
  }
  return parts.flatMap((p) => p!);
}

const SPLIT_AGAIN = 'the model counted a part of the conversation as longer than estimated; that part was split into smaller ones';

function spanOfMessages(messages: readonly PreparedMessage[], text: string): PartialForReduce {
  return { text, firstRef: messages[0]!.ref, lastRef: messages.at(-1)!.ref };
}

// ---- reduce ---------------------------------------------------------------------------------

async function reduceParts(input: MapReduceInput, first: PartialForReduce[], warnings: string[]): Promise<string> {
  const finalSystem = summarySystem(input.promptText, 'reduce');
  const combineSystem = `${finalSystem}\n\n${INTERMEDIATE_NOTE}`;
  const fits = (system: string, partials: readonly PartialForReduce[], maxTokens: number): boolean =>
    estimateTokens(system) + estimateTokens(partialsTurn(partials)) + maxTokens <= input.reduceWindow;
  const chunksTotal = first.length;

  let partials = first;
  for (let round = 1; ; round++) {
    const fitsFinal = fits(finalSystem, partials, input.finalMaxTokens);
    if (fitsFinal || partials.length === 1) {
      // One partial too long for the final answer's room (a model that ignored its token limit) is shortened.
      if (!fitsFinal) partials = [shortenOne(partials[0]!, input, finalSystem, warnings)];
      input.onProgress?.({ stage: 'reduce', round, done: 0, total: 1 });
      try {
        const answer = await input.calls.call({
          task: 'summarize',
          system: finalSystem,
          turn: partialsTurn(partials),
          maxTokens: input.finalMaxTokens,
          attachments: { task: 'summarize-reduce', summaryType: input.summaryType, perspective: input.requestOptions.perspective, partials: partials.map((p) => p.text) },
        });
        input.onProgress?.({ stage: 'reduce', round, done: 1, total: 1 });
        return answer.text;
      } catch (error) {
        throw fromRouterFailure(error, `all ${chunksTotal} parts were summarized (and are kept), but combining them failed`, { chunksDone: chunksTotal, chunksTotal });
      }
    }
    if (round > input.maxRounds) {
      throw new SummarizeError('too_large', `the partial summaries still do not fit the model's window after ${input.maxRounds} rounds of combining`, {
        chunksDone: chunksTotal,
        chunksTotal,
      });
    }
    const groups = groupPartials(partials, input.fanIn, (group) => fits(combineSystem, group, input.mapMaxTokens), warnings, input, combineSystem);
    partials = await combineRound(input, combineSystem, groups, round, chunksTotal);
  }
}

/**
 * Consecutive partials, as many per group as fit (and the fan-in allows).
 * Each group needs at least two members or a round makes no progress; when
 * even two do not fit, their texts are shortened, with a warning.
 */
function groupPartials(
  partials: readonly PartialForReduce[],
  fanIn: number,
  fits: (group: readonly PartialForReduce[]) => boolean,
  warnings: string[],
  input: MapReduceInput,
  system: string,
): PartialForReduce[][] {
  const groups: PartialForReduce[][] = [];
  let current: PartialForReduce[] = [];
  for (const partial of partials) {
    const candidate = [...current, partial];
    if (current.length === 0 || (candidate.length <= fanIn && fits(candidate))) {
      current = candidate;
      continue;
    }
    if (current.length === 1) {
      // Even a pair does not fit: shorten both to share the room.
      groups.push(shortenPair(current[0]!, partial, input, system, warnings));
      current = [];
      continue;
    }
    groups.push(current);
    current = [partial];
  }
  // A lone partial at the end is passed on as is and combined in the next round.
  if (current.length > 0) groups.push(current);
  return groups;
}

const SHORTENED = "some partial summaries were too long to combine within the model's context window and were shortened";

function shortenTo(p: PartialForReduce, chars: number): PartialForReduce {
  return p.text.length <= chars ? p : { ...p, text: `${p.text.slice(0, chars)} … [partial summary shortened to fit]` };
}

function shortenPair(a: PartialForReduce, b: PartialForReduce, input: MapReduceInput, system: string, warnings: string[]): PartialForReduce[] {
  const room = input.reduceWindow - estimateTokens(system) - input.mapMaxTokens - estimateTokens(partialsTurn([]));
  const eachChars = Math.max(200, Math.floor((room / 2) * 4) - 200);
  if (!warnings.includes(SHORTENED)) warnings.push(SHORTENED);
  return [shortenTo(a, eachChars), shortenTo(b, eachChars)];
}

function shortenOne(p: PartialForReduce, input: MapReduceInput, system: string, warnings: string[]): PartialForReduce {
  const room = input.reduceWindow - estimateTokens(system) - input.finalMaxTokens - estimateTokens(partialsTurn([]));
  if (!warnings.includes(SHORTENED)) warnings.push(SHORTENED);
  return shortenTo(p, Math.max(200, room * 4 - 200));
}

async function combineRound(
  input: MapReduceInput,
  system: string,
  groups: PartialForReduce[][],
  round: number,
  chunksTotal: number,
): Promise<PartialForReduce[]> {
  const turns = groups.map((group) => partialsTurn(group));
  const keys = turns.map((turn) => keyFor(input, 'reduce', turn));
  const { found: stored, stale } = await findStored(input, keys, 'summarize');
  const merged: Array<PartialForReduce | undefined> = groups.map((group, i) =>
    group.length === 1 ? group[0] : stored.has(keys[i]!) ? spanOf(group, stored.get(keys[i]!)!.text) : undefined,
  );
  const total = groups.length;
  let done = merged.filter((m) => m !== undefined).length;
  input.onProgress?.({ stage: 'reduce', round, done, total });
  const pending = groups.map((group, index) => ({ group, index })).filter(({ index }) => merged[index] === undefined);
  const outcome = await runBounded(
    pending,
    input.concurrency,
    async ({ group, index }) => {
      const answer = await input.calls.call({
        task: 'summarize',
        system,
        turn: turns[index]!,
        maxTokens: input.mapMaxTokens,
        attachments: { task: 'summarize-reduce', summaryType: input.summaryType, perspective: input.requestOptions.perspective, partials: group.map((p) => p.text) },
      });
      merged[index] = spanOf(group, answer.text);
      await saveStored(input, keys[index]!, answer, stale.has(keys[index]!));
      done++;
      input.onProgress?.({ stage: 'reduce', round, done, total });
    },
    () => input.signal?.aborted === true,
  );
  if (outcome.error !== undefined || merged.some((m) => m === undefined)) {
    const cause = outcome.error ?? new SummarizeError('aborted', 'the request was cancelled');
    throw fromRouterFailure(cause, `all ${chunksTotal} parts were summarized (and are kept), but combining them failed`, { chunksDone: chunksTotal, chunksTotal });
  }
  return merged as PartialForReduce[];
}

function spanOf(group: readonly PartialForReduce[], text: string): PartialForReduce {
  return { text, firstRef: group[0]!.firstRef, lastRef: group.at(-1)!.lastRef };
}

// ---- stored partials ------------------------------------------------------------------------

function keyFor(input: MapReduceInput, kind: 'map' | 'reduce', content: string): string {
  return partialKey({
    kind,
    guildId: input.guildId ?? null,
    options: input.requestOptions,
    prompt: input.prompt,
    maxTokens: input.mapMaxTokens,
    content,
  });
}

/** Storage failing costs a retry its head start, not the summary. */
async function findStored(
  input: MapReduceInput,
  keys: readonly string[],
  task: EngineTask,
): Promise<{ found: Map<string, StoredChunk>; stale: Set<string> }> {
  const stale = new Set<string>();
  try {
    const found = await input.store.findChunks(keys);
    if (input.standing === undefined || found.size === 0) return { found, stale };
    // A partial made by a fallback during an outage is made again once a preferred target can answer.
    const standing = input.standing(task, input.guildId);
    for (const [key, chunk] of found) {
      if (judgeReuse(chunk, standing).reuse) continue;
      found.delete(key);
      stale.add(key);
    }
    return { found, stale };
  } catch (error) {
    input.logger.warn({ err: messageOf(error), correlationId: input.correlationId }, 'could not read stored partial summaries');
    return { found: new Map(), stale };
  }
}

async function saveStored(input: MapReduceInput, key: string, answer: CallOutcome, replace: boolean): Promise<void> {
  try {
    await input.store.saveChunk(key, { text: answer.text, provider: answer.provider, model: answer.model, tokens: answer.outputTokens }, { replace });
  } catch (error) {
    input.logger.warn({ err: messageOf(error), correlationId: input.correlationId }, 'could not store a partial summary');
  }
}
