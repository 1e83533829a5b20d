/** A small path router: `/channels/:channelId/messages/@original`-style patterns, literals first. */
import type { IncomingHttpHeaders } from 'node:http';
import type { RecordedFile } from './model.ts';

export interface RouteContext {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: unknown;
  files: RecordedFile[];
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (ctx: RouteContext) => Reply | Promise<Reply>;

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  pattern: string;
  /** `bot`: needs `Authorization: Bot <token>`; `none`: interaction callbacks and webhooks. */
  auth: 'bot' | 'none';
  /** Param naming the rate-limit bucket's major resource, e.g. `channelId`. */
  major?: string;
  handler: Handler;
}

export interface RouteMatch {
  route: Route;
  name: string;
  params: Record<string, string>;
}

export class Router {
  readonly #routes: { route: Route; segments: string[] }[] = [];

  add(routes: readonly Route[]): this {
    for (const route of routes) this.#routes.push({ route, segments: route.pattern.split('/').filter(Boolean) });
    return this;
  }

  /** The best match for the path, or `'method'` when the path exists under another method. */
  match(method: string, path: string): RouteMatch | 'method' | undefined {
    const parts = path.split('/').filter(Boolean).map(safeDecode);
    let best: { match: RouteMatch; literals: number } | undefined;
    let pathExists = false;
    for (const { route, segments } of this.#routes) {
      if (segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let literals = 0;
      const ok = segments.every((segment, i) => {
        const part = parts[i] ?? '';
        if (segment.startsWith(':')) {
          params[segment.slice(1)] = part;
          return part.length > 0;
        }
        literals += 1;
        return segment === part;
      });
      if (!ok) continue;
      pathExists = true;
      if (route.method !== method) continue;
      if (!best || literals > best.literals) {
        best = { match: { route, name: `${route.method} ${route.pattern}`, params }, literals };
      }
    }
    return best?.match ?? (pathExists ? 'method' : undefined);
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
