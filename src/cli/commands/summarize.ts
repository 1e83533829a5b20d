import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { ImportError, importDiscordChatExporter } from '../../conversation/dce-importer.ts';
import { DurationError, parseDuration } from '../../conversation/duration.ts';
import type { ConversationSource } from '../../conversation/model.ts';
import { prepareConversation, type PrepareOptions, type PreparedConversation } from '../../conversation/prepare.ts';
import { SummarizeError } from '../../summaries/errors.ts';
import { historyCut } from '../../summaries/history-cut.ts';
import { sanitizedCategoryName } from '../../prompts/routed-values.ts';
import { buildEngine, type BuildEngine, type EngineRuntime } from '../engine-runtime.ts';
import { nothingToSummarize } from '../../summaries/summarize.ts';
import type { SummarizeProgress, SummaryResult } from '../../summaries/types.ts';
import { renderCitations } from '../../summaries/citation-render.ts';
import { parseFlags } from '../args.ts';
import { cliCitationStyle } from '../citation-style.ts';
import { errorLine, UsageError, type CliCommand, type CliContext } from '../command.ts';
import { messageOf } from '../../log/error-message.ts';

const USAGE = `Usage: recap summarize <export.json> [options]

Summarizes a DiscordChatExporter JSON export the way the bot summarizes a
channel, and prints the summary, its citations and where its prompt came from.

Options:
  --type <t>          brief (default), detailed, comprehensive, action_items,
                      or any type your prompt repository routes
  --perspective <p>   general (default), developer, product, executive, …
  --category <c>      prompt category: discussion, meeting, moderation, chat, …
                      (default: the export's Discord category, reduced to a
                      route segment, when the prompts route it)
  --prompts <dir|url> use this prompt repository (a folder or a GitHub URL)
  --provider <name>   send every call to this provider only (e.g. local)
  --since <duration>  only the last 30m, 2h, 3d, 1w … of the export, counted
                      back from its newest message
  --limit <n>         only the newest n messages
  --include-bots      keep messages from bots and apps
  --json              print the whole result as JSON
  -h, --help          show this help

Exit status: 0 on success, 1 when the export cannot be read, there is
nothing to summarize or no language model answers, 2 for bad arguments.`;

const WORD = /^[A-Za-z0-9_-]{1,40}$/;
const MAX_LIMIT = 200_000;

/** The command over an engine factory: the composition root provides it, tests pass their own. */
export function createSummarizeCommand(buildDeps: BuildEngine): CliCommand {
  return {
    name: 'summarize',
    usage: USAGE,
    run: (ctx) => run(ctx, buildDeps),
  };
}

export const summarizeCommand: CliCommand = createSummarizeCommand(buildEngine);

interface Parsed {
  file: string;
  type?: string;
  perspective?: string;
  category?: string;
  prompts?: string;
  provider?: string;
  since?: number;
  limit?: number;
  includeBots: boolean;
  json: boolean;
}

function parse(argv: string[]): Parsed {
  const { values, positionals } = parseFlags(
    argv,
    {
      type: { type: 'string' },
      perspective: { type: 'string' },
      category: { type: 'string' },
      prompts: { type: 'string' },
      provider: { type: 'string' },
      since: { type: 'string' },
      limit: { type: 'string' },
      'include-bots': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    true,
  );
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? 'name the export file to summarize' : `expected one export file, got ${positionals.length}`);
  }
  const word = (name: string, value: string | undefined): string | undefined => {
    if (value !== undefined && !WORD.test(value)) throw new UsageError(`--${name} must be a word of letters, digits, _ or - (got ${JSON.stringify(value.slice(0, 40))})`);
    return value;
  };
  const parsed: Parsed = {
    file: positionals[0]!,
    includeBots: values['include-bots'] === true,
    json: values.json === true,
  };
  const type = word('type', values.type);
  if (type !== undefined) parsed.type = type;
  const perspective = word('perspective', values.perspective);
  if (perspective !== undefined) parsed.perspective = perspective;
  const category = word('category', values.category);
  if (category !== undefined) parsed.category = category;
  const provider = word('provider', values.provider);
  if (provider !== undefined) parsed.provider = provider;
  if (values.prompts !== undefined) {
    if (values.prompts.trim() === '') throw new UsageError('--prompts needs a folder or a GitHub URL');
    parsed.prompts = values.prompts;
  }
  if (values.since !== undefined) {
    try {
      parsed.since = parseDuration(values.since);
    } catch (error) {
      if (error instanceof DurationError) throw new UsageError(`--since: ${error.message}`);
      throw error;
    }
  }
  if (values.limit !== undefined) {
    const limit = Number(values.limit);
    if (!/^\d+$/.test(values.limit) || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new UsageError(`--limit must be a whole number from 1 to ${MAX_LIMIT} (got ${JSON.stringify(values.limit.slice(0, 20))})`);
    }
    parsed.limit = limit;
  }
  return parsed;
}

async function run(ctx: CliContext, buildDeps: BuildEngine): Promise<number> {
  const args = parse(ctx.argv);
  const fail = (message: string): number => {
    ctx.stderr.write(errorLine(message));
    return 1;
  };

  let imported;
  try {
    imported = await importDiscordChatExporter(resolve(ctx.cwd, args.file), { sourceName: args.file });
  } catch (error) {
    if (error instanceof ImportError) return fail(error.message);
    throw error;
  }
  for (const warning of imported.stats.warnings) ctx.stderr.write(`warning: ${warning.message}\n`);

  const { conversation } = imported;
  const options: PrepareOptions = { includeBots: args.includeBots };
  if (args.limit !== undefined) options.maxMessages = args.limit;
  if (args.since !== undefined) {
    const newest = conversation.messages.reduce((max, m) => Math.max(max, m.timestamp), Number.NEGATIVE_INFINITY);
    if (Number.isFinite(newest)) options.since = newest - args.since;
  }
  const prepared = prepareConversation(conversation, options);
  const source = prepared.source;
  const channelName = source.threadName ?? source.channelName;
  if (prepared.messages.length === 0) return fail(nothingToSummarize(prepared, channelName));
  const cut = limitCut(prepared, args);
  if (cut !== undefined) ctx.stderr.write(`note: ${cut}\n`);

  let runtime: EngineRuntime;
  try {
    runtime = await buildDeps(ctx, {
      prompts: args.prompts,
      provider: args.provider,
    });
  } catch (error) {
    return fail(`cannot start the summarizer: ${messageOf(error)}`);
  }
  const progress = createProgress(ctx);
  try {
    const result = await runtime.summarizer.summarize(prepared, {
      guildId: source.guildId,
      guildName: source.guildName,
      channelId: source.threadId ?? source.channelId,
      channelName,
      type: args.type,
      perspective: args.perspective,
      category: args.category ?? (await exportCategory(runtime, source)),
      correlationId: `cli-${randomUUID()}`,
      onProgress: progress.update,
    });
    progress.finish();
    for (const warning of result.warnings) ctx.stderr.write(`warning: ${oneLine(warning)}\n`);
    ctx.stdout.write(args.json ? `${JSON.stringify(result, null, 2)}\n` : renderText(result, cut));
    return 0;
  } catch (error) {
    progress.finish();
    if (error instanceof SummarizeError) {
      if (error.kind === 'unavailable') return fail(`no language model is available: ${oneLine(error.message)}`);
      return fail(oneLine(error.message));
    }
    throw error;
  } finally {
    await runtime.close().catch(() => undefined);
  }
}

/**
 * Without `--category`, the export's Discord category name as a route
 * segment ("Team Meetings!" → `team-meetings`) when the prompts in use route
 * it, as /summarize does for a channel without a category mapping.
 */
async function exportCategory(runtime: EngineRuntime, source: ConversationSource): Promise<string | undefined> {
  const name = sanitizedCategoryName(source.channelCategory);
  if (name === undefined) return undefined;
  return (await runtime.routesCategory(name, source.guildId)) ? name : undefined;
}

function renderText(result: SummaryResult, cut: string | undefined): string {
  const last = cut === undefined ? footer(result) : `${footer(result)} · ${cut}`;
  return `${renderCitations(result.text, result.citations, cliCitationStyle).trimEnd()}\n\n${last}\n`;
}

/** The sentence saying that --limit left part of the --since window out; --limit alone is what was asked for. */
function limitCut(prepared: PreparedConversation, args: { since?: number; limit?: number }): string | undefined {
  if (args.since === undefined || args.limit === undefined || prepared.stats.dropped['over-cap'] === 0) return undefined;
  const kept = prepared.messages.length;
  return historyCut({ end: 'count', counted: kept, scanned: kept, oldestMs: prepared.messages[0]!.timestamp }, { kind: 'duration', durationMs: args.since }, args.limit);
}

/** `prompt: default bundled:summaries/default/brief.md · provider: local/local-extractive · 120 messages in 1 chunk · $0.0000` */
function footer(result: SummaryResult): string {
  const parts = [
    `prompt: ${promptSource(result)}`,
    `provider: ${result.provider}/${result.model}`,
    `${result.messages} message${result.messages === 1 ? '' : 's'} in ${result.chunks} chunk${result.chunks === 1 ? '' : 's'}`,
    `$${result.costUsd.toFixed(4)}`,
  ];
  if (result.reused) parts.push('reused');
  return parts.join(' · ');
}

function promptSource(result: SummaryResult): string {
  const { level, repo, commit, path } = result.prompt;
  if (level === 'fallback' || path === null) return 'fallback';
  if (repo === 'bundled') return `${level} bundled:${path}`;
  return `${level} ${repo ?? 'unknown'}@${(commit ?? 'unknown').slice(0, 7)}:${path}`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

interface Progress {
  update(progress: SummarizeProgress): void;
  finish(): void;
}

/** A bar that redraws in place on a terminal; plain lines when stderr is a file or pipe. */
function createProgress(ctx: CliContext): Progress {
  const tty = (ctx.stderr as { isTTY?: boolean }).isTTY === true;
  let drawn = false;
  let lastLine = '';
  const describe = (p: SummarizeProgress): string => {
    if (p.stage === 'single') return 'summarizing in one call';
    if (p.stage === 'map') return `summarizing parts: ${p.done}/${p.total}${p.reused > 0 ? ` (${p.reused} reused)` : ''}`;
    return `combining partial summaries (round ${p.round}): ${p.done}/${p.total}`;
  };
  return {
    update(p) {
      if (tty) {
        const ratio = p.stage === 'single' ? 0 : p.total === 0 ? 1 : p.done / p.total;
        const width = 24;
        const filled = Math.round(ratio * width);
        ctx.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${describe(p)}\u001b[K`);
        drawn = true;
        return;
      }
      const line = describe(p);
      if (line !== lastLine) ctx.stderr.write(`${line}\n`);
      lastLine = line;
    },
    finish() {
      if (tty && drawn) ctx.stderr.write('\r\u001b[K');
      drawn = false;
    },
  };
}
