import type { Registry } from 'prom-client';
import { describeDatabaseError } from '../db/database.ts';
import type { GatewayReadinessResult } from '../discord/gateway-readiness.ts';
import { sendJson, type HttpServer } from './server.ts';

interface HealthDependencies {
  /** Must be cheap and must never call an LLM or GitHub: probes run every few seconds. */
  pingDatabase(): Promise<void>;
  /** The Discord gateway's part of readiness; undefined when this process holds no Discord connection. */
  gateway?: () => GatewayReadinessResult | undefined;
  metrics: Registry;
}

type CheckState = 'ok' | 'failed' | 'starting' | 'disconnected';

export function mountHealthRoutes(http: HttpServer, deps: HealthDependencies): void {
  http.route('GET', '/healthz', (_req, res) => {
    sendJson(res, 200, { status: 'ok' });
  });

  http.route('GET', '/readyz', async (_req, res) => {
    const checks: Record<string, CheckState> = {};
    const reasons: string[] = [];
    try {
      await deps.pingDatabase();
      checks['database'] = 'ok';
    } catch (error) {
      checks['database'] = 'failed';
      reasons.push(`database: ${describeDatabaseError(error)}`);
    }
    const gateway = deps.gateway?.();
    if (gateway !== undefined) {
      checks['discord'] = gateway.ready ? 'ok' : gateway.state;
      if (!gateway.ready) reasons.push(gateway.reason);
    }
    if (reasons.length === 0) sendJson(res, 200, { status: 'ready', checks });
    else sendJson(res, 503, { status: 'unavailable', checks, reason: reasons.join('; ') });
  });

  http.route('GET', '/metrics', async (_req, res) => {
    const body = await deps.metrics.metrics();
    res.writeHead(200, { 'content-type': deps.metrics.contentType });
    res.end(body);
  });
}
