import { branchOf, parsePush, parseRepositoryEvent, type DeliveryPayload } from './payloads.ts';
import { configsForPush, type WebhookEngine } from './processor.ts';

/** What to do with a verified delivery, decided while GitHub waits (so it must be quick). */
export type Intake =
  | { kind: 'queue'; payload: DeliveryPayload; repo: string; action: string | null }
  | { kind: 'ack'; result: string; repo: string | null; action: string | null }
  | { kind: 'ignore'; reason: string; repo: string | null; action: string | null; payload?: DeliveryPayload }
  | { kind: 'invalid'; reason: string };

/**
 * Sorts a delivery: work for a configured repository is queued; pings are
 * acknowledged; everything else is ignored with the reason. Reads the
 * configs (may throw when the database is down: the caller answers 503).
 */
export async function classifyDelivery(engine: WebhookEngine, event: string, body: unknown): Promise<Intake> {
  switch (event) {
    case 'ping':
      return { kind: 'ack', result: 'ping', repo: repoOf(body), action: null };
    case 'push': {
      const push = parsePush(body);
      if (!push.ok) return { kind: 'invalid', reason: push.reason };
      const p = push.value;
      const repo = `${p.owner}/${p.repo}`;
      const branch = branchOf(p.ref);
      if (branch === undefined) return { kind: 'ignore', reason: `${p.ref} is not a branch`, repo, action: null, payload: p };
      const configs = await configsForPush(engine, p);
      if (configs.length === 0) return { kind: 'ignore', reason: `no guild uses ${repo}@${branch}`, repo, action: null, payload: p };
      return { kind: 'queue', payload: p, repo, action: null };
    }
    case 'repository': {
      const parsed = parseRepositoryEvent(body);
      if (parsed.ok === false) return { kind: 'invalid', reason: parsed.reason };
      if (parsed.ok === 'ignored') return { kind: 'ignore', reason: `repository action "${parsed.action.slice(0, 40)}" is not used`, repo: repoOf(body), action: parsed.action.slice(0, 100) };
      const e = parsed.value;
      const repo = `${e.owner}/${e.repo}`;
      const configs = await engine.configs.byRepository(e.owner, e.repo);
      if (configs.length === 0) return { kind: 'ignore', reason: `no guild uses ${repo}`, repo, action: e.action, payload: e };
      return { kind: 'queue', payload: e, repo, action: e.action };
    }
    default:
      return { kind: 'ignore', reason: `event "${event}" is not used`, repo: repoOf(body), action: null };
  }
}

/** `owner/name` for the row, when the body names a plausible repository. */
function repoOf(body: unknown): string | null {
  const name = (body as { repository?: { full_name?: unknown } } | null)?.repository?.full_name;
  return typeof name === 'string' && /^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/.test(name) ? name : null;
}
