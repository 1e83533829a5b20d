/**
 * Provider health for the router: polled in the background (never per call)
 * through the plugin host, whose provider health checks cost nothing (they
 * list models; no completion is requested).
 *
 * A check made with the operator's key says nothing about guilds' own keys,
 * so "no operator key" and "operator key rejected" count as unknown rather
 * than unhealthy: a guild with its own key must still reach the provider.
 */
import type { PluginStatus } from './plugin-host/plugin-set.ts';
import type { PluginLogger } from './plugin-host/types.ts';
import { messageOf } from '../log/error-message.ts';

interface HealthSource {
  statuses(): Promise<PluginStatus[]>;
}

interface ProviderHealthBoard {
  /** undefined: unknown, which the router treats as healthy. */
  isHealthy(provider: string): boolean | undefined;
  /** Runs one check of every provider now (also what the timer does). */
  refresh(): Promise<void>;
  /** Starts polling every `intervalMs`; the timer does not keep the process alive. */
  start(intervalMs: number): void;
  stop(): void;
}

export function createProviderHealthBoard(source: HealthSource, logger: PluginLogger): ProviderHealthBoard {
  let health = new Map<string, boolean>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function check(): Promise<void> {
    const next = new Map<string, boolean>();
    for (const status of await source.statuses()) {
      if (status.provider === undefined) continue;
      const verdict = judge(status);
      if (verdict !== undefined) next.set(status.provider, verdict);
      if (verdict === false && health.get(status.provider) !== false) {
        logger.warn({ provider: status.provider, detail: status.health.detail?.slice(0, 200) }, 'provider failed its health check; routing around it');
      } else if (verdict === true && health.get(status.provider) === false) {
        logger.info({ provider: status.provider }, 'provider passed its health check again');
      }
    }
    health = next;
  }

  function refresh(): Promise<void> {
    // One check at a time: a slow provider must not pile checks up.
    running ??= check()
      .catch((err: unknown) => logger.warn({ err: messageOf(err) }, 'provider health check failed'))
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  return {
    isHealthy: (provider) => health.get(provider),
    refresh,
    start(intervalMs) {
      if (timer !== undefined) return;
      timer = setInterval(() => void refresh(), intervalMs);
      timer.unref();
    },
    stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}

function judge(status: PluginStatus): boolean | undefined {
  if (status.state !== 'active') return false;
  if (status.health.ok) return true;
  const detail = status.health.detail ?? '';
  if (detail === 'no key' || detail.startsWith('auth:')) return undefined;
  return false;
}
