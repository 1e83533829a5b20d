import type { ServerResponse } from 'node:http';
import type { Html } from './html.ts';

/**
 * Headers on every dashboard answer. The CSP allows this origin's own script
 * and styles only (no inline script, no CDN: the chart library is served from
 * node_modules), forms post here only, and no other site may frame a page.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
  'cache-control': 'no-store',
});

const started = new WeakMap<ServerResponse, bigint>();

/** Marks when the dashboard began on a request: its answer carries `Server-Timing: page;dur=<ms>`. */
export function markStart(res: ServerResponse): void {
  started.set(res, process.hrtime.bigint());
}

function timing(res: ServerResponse): Record<string, string> {
  const at = started.get(res);
  return at === undefined ? {} : { 'server-timing': `page;dur=${(Number(process.hrtime.bigint() - at) / 1e6).toFixed(2)}` };
}

export function sendHtml(res: ServerResponse, status: number, page: Html, cookies: string[] = []): void {
  const body = page.text;
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...timing(res),
    ...(cookies.length > 0 ? { 'set-cookie': cookies } : {}),
  });
  res.end(body);
}

/** 303: after a form post, or to send the browser elsewhere. */
export function redirect(res: ServerResponse, location: string, cookies: string[] = []): void {
  res.writeHead(303, { ...SECURITY_HEADERS, ...timing(res), location, ...(cookies.length > 0 ? { 'set-cookie': cookies } : {}) });
  res.end();
}
