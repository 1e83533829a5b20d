import type { Registry } from 'prom-client';
import { describeDatabaseError } from '../db/database.ts';
import { sendJson, type HttpServer } from './server.ts';

interface HealthDependencies {
  /** Must be cheap and must never call an LLM or GitHub: probes run every few seconds. */
  pingDatabase(): Promise<void>;
  metrics: Registry;
}

export function mountHealthRoutes(http: HttpServer, deps: HealthDependencies): void {
  http.route('GET', '/healthz', (_req, res) => {
    sendJson(res, 200, { status: 'ok' });
  });

  http.route('GET', '/readyz', async (_req, res) => {
    try {
      await deps.pingDatabase();
      sendJson(res, 200, { status: 'ready', checks: { database: 'ok' } });
    } catch (error) {
      sendJson(res, 503, {
        status: 'unavailable',
        checks: { database: 'failed' },
        reason: `database: ${describeDatabaseError(error)}`,
      });
    }
  });

  http.route('GET', '/metrics', async (_req, res) => {
    const body = await deps.metrics.metrics();
    res.writeHead(200, { 'content-type': deps.metrics.contentType });
    res.end(body);
  });
}
