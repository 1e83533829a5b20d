/**
 * One REST request end to end: body, route, bot auth, rate limit, handler, answer, record.
 * Also serves attachment bytes at `/attachments/:channel/:id/:name` (Discord's CDN stand-in).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DiscordApiFailure, Failures } from './errors.ts';
import { parseBody, readBody, writeJson, type ParsedBody } from './http-io.ts';
import type { RateLimiter } from './rate-limits.ts';
import { classifyAuth, redactPath, type RecordedRequest } from './request-log.ts';
import type { Reply, RouteMatch, Router } from './router.ts';
import type { StoredAttachmentBytes } from './state.ts';

const API_PREFIX = '/api/v10';
const MAX_BODY_BYTES = 30 * 1024 * 1024;

export interface RestPipelineDeps {
  router: Router;
  limiter: RateLimiter;
  botToken: string;
  attachments: ReadonlyMap<string, StoredAttachmentBytes>;
  record: (request: RecordedRequest) => void;
  /** Emulator bugs: answered 500 and reported here so tests can fail on them. */
  internalError: (error: Error) => void;
}

export class RestPipeline {
  #seq = 0;

  constructor(private readonly deps: RestPipelineDeps) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedAt = Date.now();
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    if (method === 'GET' && url.pathname.startsWith('/attachments/')) return this.#serveAttachment(url.pathname, res);
    const path = url.pathname.startsWith(`${API_PREFIX}/`) ? url.pathname.slice(API_PREFIX.length) : null;
    const auth = classifyAuth(req.headers.authorization, this.deps.botToken);
    let match: RouteMatch | undefined;
    let parsed: ParsedBody = { body: undefined, files: [] };
    let headers: Record<string, string> = {};
    let reply: Reply;
    try {
      const raw = await readBody(req, MAX_BODY_BYTES);
      const found = path === null ? undefined : this.deps.router.match(method, path);
      if (found === undefined) throw Failures.notFound();
      if (found === 'method') throw Failures.methodNotAllowed();
      match = found;
      if (found.route.auth === 'bot' && auth !== 'bot') throw Failures.unauthorized();
      const major = found.route.major ? (found.params[found.route.major] ?? '') : '';
      const decision = this.deps.limiter.check(found.name, method, path ?? '', major);
      headers = decision.headers;
      if (decision.limited) {
        reply = { status: 429, body: decision.limited.body };
      } else {
        parsed = await parseBody(req.headers['content-type'], raw);
        reply = await found.route.handler({ method, path: path ?? '', params: found.params, query: url.searchParams, headers: req.headers, ...parsed });
      }
    } catch (error) {
      if (error instanceof DiscordApiFailure) {
        reply = { status: error.status, body: error.body };
      } else {
        this.deps.internalError(error instanceof Error ? error : new Error(String(error)));
        reply = { status: 500, body: { message: '500: Internal Server Error', code: 0 } };
      }
    }
    writeJson(res, reply.status, reply.body, { ...headers, ...reply.headers });
    this.deps.record({
      seq: ++this.#seq,
      method,
      path: redactPath(path ?? url.pathname),
      query: Object.fromEntries(url.searchParams),
      route: match?.name ?? null,
      status: reply.status,
      auth,
      body: parsed.body,
      files: parsed.files.map(({ content: _bytes, ...meta }) => meta),
      ...(reply.status >= 300 ? { error: reply.body } : {}),
      startedAt,
      durationMs: performance.now() - started,
    });
  }

  #serveAttachment(pathname: string, res: ServerResponse): void {
    const [, , channelId, attachmentId] = pathname.split('/');
    const stored = attachmentId ? this.deps.attachments.get(attachmentId) : undefined;
    if (!stored || stored.channelId !== channelId) {
      writeJson(res, 404, { message: '404: Not Found', code: 0 });
      return;
    }
    res.writeHead(200, { 'content-type': stored.contentType, 'content-length': stored.content.length });
    res.end(stored.content);
  }
}
