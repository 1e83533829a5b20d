/** A JSON body read within bounds (after the key was checked) and validated with its zod schema. */
import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { BodyRefusedError, readBoundedBody } from '../http/bounded-body.ts';
import type { BodyBudget } from '../http/body-budget.ts';
import { problem, ProblemError } from './problem.ts';

export const MAX_API_BODY_BYTES = 16 * 1024;

export async function readJsonBody<S extends z.ZodType>(req: IncomingMessage, schema: S, bodies: { budget: BodyBudget; timeoutMs: number }): Promise<z.infer<S>> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new ProblemError(problem(415, 'unsupported-media-type', 'Send the body as application/json.'));
  }
  let raw: Buffer;
  try {
    raw = await readBoundedBody(req, { limit: MAX_API_BODY_BYTES, budget: bodies.budget, timeoutMs: bodies.timeoutMs });
  } catch (error) {
    if (error instanceof BodyRefusedError) throw new ProblemError(problem(error.status, 'body-refused', error.message), error.headers);
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ProblemError(problem(400, 'invalid-json', 'The body is not valid JSON.'));
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const errors = parsed.error.issues.slice(0, 20).map((issue) => ({ path: issue.path.map(String).join('.') || '(body)', message: issue.message }));
    throw new ProblemError(problem(400, 'validation-failed', `The request body is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, { errors }));
  }
  return parsed.data;
}
