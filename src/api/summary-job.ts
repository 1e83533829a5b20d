/**
 * The `api-summary` job: what `POST /api/v1/guilds/{guild}/summaries`
 * queues. It runs the pipeline `/summarize` runs (read the channel over
 * REST, then the summarizer, which stores the summary) after checking
 * again that the key's admin can read the channel: permissions may have
 * changed while the job waited.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../db/schema.ts';
import { UserFacingError } from '../discord/errors.ts';
import { mappedCategory, readCategoryMap } from '../discord/history/category-map.ts';
import { categoryOf } from '../discord/history/channel-access.ts';
import { createMemberNames } from '../discord/history/member-names.ts';
import { readChannel } from '../discord/history/read-channel.ts';
import { parseSince } from '../discord/history/since.ts';
import { summarizeFailureText } from '../discord/output/failure-text.ts';
import { summarizableChannel } from '../discord/shared/channel-kinds.ts';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../resilience/clock.ts';
import { SummarizeError } from '../summaries/errors.ts';
import { summaryChoices } from '../summaries/summary-context.ts';
import type { Summarizer } from '../summaries/summarize.ts';
import type { GuildAccess } from './discord-access.ts';
import { ProblemError } from './problem.ts';
import { CreateSummaryRequest } from './schemas.ts';

export const SUMMARY_JOB_KIND = 'api-summary';
export const DEFAULT_MESSAGES = 100;

export const SummaryJobPayload = CreateSummaryRequest.extend({
  guildId: z.string(),
  /** The admin the key acts as. */
  actorId: z.string(),
  keyId: z.string(),
});
export type SummaryJobPayload = z.infer<typeof SummaryJobPayload>;

/** A job failure whose message is safe to show the key's holder: ends the job without retrying. */
export class SummaryJobFailure extends Error {
  override readonly name = 'SummaryJobFailure';
}

export interface SummaryJobDeps {
  access: GuildAccess;
  summarizer: Summarizer;
  db: Kysely<Database>;
  clock: Clock;
  logger: Logger;
}

export function createSummaryJobHandler(deps: SummaryJobDeps) {
  return async (job: { id: string; payload: Record<string, unknown>; signal: AbortSignal }): Promise<Record<string, unknown>> => {
    const parsed = SummaryJobPayload.safeParse(job.payload);
    if (!parsed.success) return { error: 'The job\'s request is invalid.' };
    const p = parsed.data;
    try {
      const guild = await deps.access.guild(p.guildId);
      const readable = await deps.access.readableByAdmin(guild, p.actorId, [p.channel]);
      if (!readable.has(p.channel)) throw new SummaryJobFailure('The admin this key acts as cannot read that channel\'s history.');
      const channel = await summarizableChannel(guild, p.channel);
      if (!(await deps.access.botCanRead(channel))) throw new SummaryJobFailure('The bot cannot read that channel\'s history: it needs View Channel and Read Message History there.');
      const since = p.since === undefined ? undefined : parseSince(p.since, deps.clock.now());
      if (since?.kind === 'after-message' && (since.guildId !== guild.id || since.channelId !== channel.id)) {
        throw new SummaryJobFailure('That message link is not in the channel asked for.');
      }
      const read = await readChannel({
        channel,
        maxMessages: p.messages ?? (since === undefined ? DEFAULT_MESSAGES : 10_000),
        ...(since === undefined ? {} : { since }),
        memberNames: createMemberNames(),
      });
      if (read.prepared.messages.length === 0) throw new SummaryJobFailure('There are no messages from members to summarize in that window.');
      const category = await readCategoryMap(deps.db, guild.id).then(
        (map) => mappedCategory(map, categoryOf(channel)),
        () => undefined,
      );
      const admin = guild.members.cache.get(p.actorId);
      const result = await deps.summarizer.summarize(read.prepared, {
        guildId: guild.id,
        guildName: guild.name,
        channelId: channel.id,
        channelName: read.channelName,
        ...summaryChoices({ category, type: p.type, perspective: p.perspective }),
        userId: p.actorId,
        userName: admin?.displayName ?? 'API',
        locale: p.language ?? guild.preferredLocale,
        correlationId: job.id,
        signal: job.signal,
      });
      if (result.summaryId === null) throw new SummaryJobFailure('The summary was made but could not be stored; try again.');
      return { summaryId: result.summaryId, messages: result.messages, reused: result.reused };
    } catch (error) {
      // A request that cannot succeed ends at once with its reason; anything else is thrown, so the queue retries it.
      const reason = permanentReason(error);
      if (reason !== undefined) return { error: reason };
      if (error instanceof ProblemError) throw new SummaryJobFailure(error.problem.detail ?? error.problem.title);
      deps.logger.error({ err: error, jobId: job.id, guildId: p.guildId }, 'API summary job failed');
      throw new SummaryJobFailure(`The summary failed on our side (reference ${job.id}).`);
    }
  };
}

/** The reason to show for a failure retrying cannot fix, or undefined. */
function permanentReason(error: unknown): string | undefined {
  if (error instanceof SummaryJobFailure) return error.message;
  if (error instanceof UserFacingError) return error.message.replace(/<#(\d+)>/g, 'channel $1');
  if (error instanceof SummarizeError) return summarizeFailureText(error);
  if (error instanceof ProblemError && error.problem.status < 500) return error.problem.detail ?? error.problem.title;
  return undefined;
}
