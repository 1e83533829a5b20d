import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { SECURITY_HEADERS } from './respond.ts';

interface StaticFile {
  body: Buffer;
  type: string;
}

/**
 * The dashboard's few static files, read once at start-up: its stylesheet and
 * chart script (src/web/static/) and uPlot from node_modules. Fixed paths,
 * no directory lookups, so no request can name another file.
 */
export function loadStaticFiles(): Map<string, StaticFile> {
  const require = createRequire(import.meta.url);
  const own = join(import.meta.dirname, 'static');
  const files = new Map<string, StaticFile>();
  const add = (path: string, file: string, type: string): void => void files.set(path, { body: readFileSync(file), type });
  add('/static/dashboard.css', join(own, 'dashboard.css'), 'text/css; charset=utf-8');
  add('/static/usage-chart.js', join(own, 'usage-chart.js'), 'text/javascript; charset=utf-8');
  add('/static/uplot.js', require.resolve('uplot/dist/uPlot.iife.min.js'), 'text/javascript; charset=utf-8');
  add('/static/uplot.css', require.resolve('uplot/dist/uPlot.min.css'), 'text/css; charset=utf-8');
  return files;
}

export function sendStatic(res: ServerResponse, file: StaticFile): void {
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': file.type,
    'content-length': file.body.length,
    'cache-control': 'public, max-age=3600',
  });
  res.end(file.body);
}
