/**
 * The API's request and response shapes: the zod schemas requests are
 * validated with, and from which `/api/v1/openapi.json` is generated, so
 * the document cannot drift from what is enforced.
 */
import { z } from 'zod';
import { LANGUAGES } from '../discord/shared/languages.ts';
import { API_SCOPES } from './api-keys.ts';

export const Snowflake = z.string().regex(/^\d{17,20}$/).describe('A Discord id (snowflake)');
const RouteSegment = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_-]+$/);

export const CreateSummaryRequest = z
  .strictObject({
    channel: Snowflake.describe('The channel, thread or forum post to summarize'),
    since: z.string().min(1).max(200).optional().describe('A time back from now (30m, 2h, 3d; at most 14d) or a message link'),
    messages: z.int().min(1).max(10_000).optional().describe('How many recent messages from members (default 100)'),
    type: RouteSegment.optional().describe('brief, detailed, comprehensive, action_items, or a type the server\'s prompts add'),
    perspective: RouteSegment.optional().describe('general, developer, executive, support, product, …'),
    language: z.enum(LANGUAGES.map((l) => l.code) as [string, ...string[]]).optional().describe("The summary's language (default: the server's)"),
  });

export const JobAccepted = z
  .object({
    jobId: z.string(),
    state: z.enum(['queued', 'running', 'done', 'failed']),
    links: z.object({ job: z.string() }),
  });

export const JobStatus = z
  .object({
    jobId: z.string(),
    state: z.enum(['queued', 'running', 'done', 'failed']),
    attempts: z.int(),
    createdAt: z.iso.datetime(),
    finishedAt: z.iso.datetime().nullable(),
    error: z.string().nullable().describe('Why the job failed, when it did'),
    summaryId: z.string().nullable(),
    links: z.object({ summary: z.string().nullable() }),
  });

export const Summary = z
  .object({
    id: z.string(),
    guildId: z.string(),
    channelId: z.string(),
    createdAt: z.iso.datetime(),
    type: z.string(),
    perspective: z.string(),
    locale: z.string().nullable(),
    messageCount: z.int(),
    text: z.string().describe('Markdown; citations as [n] with the jump links in `citations`'),
    citations: z.array(z.object({ ref: z.int(), messageId: z.string(), jumpUrl: z.string().optional() })),
    provider: z.string(),
    model: z.string(),
    prompt: z.object({ level: z.string(), repo: z.string().nullable(), commit: z.string().nullable(), path: z.string().nullable() }),
    warnings: z.array(z.string()),
  });

export const SummaryPage = z
  .object({
    items: z.array(Summary),
    nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last'),
  });

export const ListSummariesQuery = z.strictObject({
  channel: Snowflake.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(200).optional(),
});

export const ProblemDetails = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  });

export const Scope = z.enum(API_SCOPES);
