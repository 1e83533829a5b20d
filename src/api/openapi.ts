/**
 * The OpenAPI 3.1 document of `/api/v1`, generated from the zod schemas in
 * schemas.ts (OpenAPI 3.1 schemas are JSON Schema 2020-12, which
 * `z.toJSONSchema` writes).
 */
import { z } from 'zod';
import { CreateSummaryRequest, JobAccepted, JobStatus, ListSummariesQuery, ProblemDetails, Summary, SummaryPage } from './schemas.ts';

type JsonSchema = Record<string, unknown>;

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const problems = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [String(s), { description: PROBLEM_TEXT[s] ?? 'Error', content: { 'application/problem+json': { schema: ref('Problem') } } }]));
const PROBLEM_TEXT: Record<number, string> = {
  400: 'The request is malformed or fails validation',
  401: 'No key, or a wrong, revoked or malformed key',
  403: 'The key lacks the scope, belongs to another server, or its admin cannot read the channel',
  404: 'No such resource visible to this key',
  413: 'The body is too large',
  429: 'Too many requests with this key (see Retry-After)',
  503: 'Discord or the database is unavailable; retry later',
};
const guildParam = { name: 'guild', in: 'path', required: true, schema: schemaOf(z.string().regex(/^\d{17,20}$/), 'output') };
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

export function openApiDocument(serverUrl?: string): Record<string, unknown> {
  const query = Object.entries(ListSummariesQuery.shape).map(([name, schema]) => ({ name, in: 'query', required: false, schema: schemaOf(schema, 'output') }));
  return {
    openapi: '3.1.0',
    info: {
      title: 'recap-bot API',
      version: '1.0.0',
      description: 'Summaries of Discord channels. A key acts as the admin who created it, with that admin\'s permissions as they stand at each request.',
    },
    ...(serverUrl === undefined ? {} : { servers: [{ url: serverUrl }] }),
    security: [{ apiKey: [] }],
    paths: {
      '/api/v1/guilds/{guild}/summaries': {
        post: {
          operationId: 'createSummary',
          summary: 'Summarize a channel (scope summaries:create)',
          parameters: [guildParam],
          requestBody: { required: true, content: { 'application/json': { schema: ref('CreateSummaryRequest') } } },
          responses: {
            '202': { description: 'Accepted: poll the job', content: { 'application/json': { schema: ref('JobAccepted') } } },
            ...problems(400, 401, 403, 404, 413, 429, 503),
          },
        },
        get: {
          operationId: 'listSummaries',
          summary: 'Summaries of channels the key can read, newest first (scope summaries:read)',
          parameters: [guildParam, ...query],
          responses: {
            '200': { description: 'A page of summaries', content: { 'application/json': { schema: ref('SummaryPage') } } },
            ...problems(400, 401, 403, 429, 503),
          },
        },
      },
      '/api/v1/summaries/{id}': {
        get: {
          operationId: 'getSummary',
          summary: 'One summary (scope summaries:read)',
          parameters: [idParam],
          responses: {
            '200': { description: 'The summary', content: { 'application/json': { schema: ref('Summary') } } },
            ...problems(401, 403, 404, 429, 503),
          },
        },
      },
      '/api/v1/jobs/{id}': {
        get: {
          operationId: 'getJob',
          summary: 'A summary job\'s state; when done, the summary\'s id (scope summaries:create or summaries:read)',
          parameters: [idParam],
          responses: {
            '200': { description: 'The job', content: { 'application/json': { schema: ref('JobStatus') } } },
            ...problems(401, 403, 404, 429, 503),
          },
        },
      },
    },
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer rk_<prefix>_<secret>' } },
      schemas: {
        CreateSummaryRequest: schemaOf(CreateSummaryRequest, 'input'),
        JobAccepted: schemaOf(JobAccepted, 'output'),
        JobStatus: schemaOf(JobStatus, 'output'),
        Summary: schemaOf(Summary, 'output'),
        SummaryPage: schemaOf(SummaryPage, 'output'),
        Problem: schemaOf(ProblemDetails, 'output'),
      },
    },
  };
}
