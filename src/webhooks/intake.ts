import { branchOf, parsePush, parseRepositoryEvent, type DeliveryPayload } from './payloads.ts';
import { configsForDelivery, configsForPush, readsRepository, type HookLookup, type WebhookEngine } from './processor.ts';

/** Which secret verified a delivery: the operator's (every config of the repository) or one config's own hook. */
export type DeliveryScope = { kind: 'operator' } | { kind: 'hook'; hookId: string; guildId: string };

/** What to do with a verified delivery, decided while GitHub waits (so it must be quick). */
export type Intake =
  | { kind: 'queue'; payload: DeliveryPayload; repo: string; action: string | null }
  /** `backs`: the ping proves the repository sends to this webhook (operator: the repo; hook: its config). */
  | { kind: 'ack'; result: string; repo: string | null; action: string | null; backs: boolean }
  | { kind: 'ignore'; reason: string; repo: string | null; action: string | null; payload?: DeliveryPayload }
  | { kind: 'invalid'; reason: string };

/**
 * Sorts a delivery: work for a configured repository is queued; pings are
 * acknowledged; everything else is ignored with the reason. A per-config
 * hook's delivery concerns its own config only. Reads the configs (may
 * throw when the database is down: the caller answers 503).
 */
export async function classifyDelivery(engine: WebhookEngine, hooks: HookLookup, scope: DeliveryScope, event: string, body: unknown): Promise<Intake> {
  const hookId = scope.kind === 'hook' ? { hookId: scope.hookId } : {};
  const nobody = scope.kind === 'hook' ? "this webhook's config does not use" : 'no guild uses';
  switch (event) {
    case 'ping':
      return classifyPing(engine, scope, body);
    case 'push': {
      const push = parsePush(body);
      if (!push.ok) return { kind: 'invalid', reason: push.reason };
      const p = { ...push.value, ...hookId };
      const repo = `${p.owner}/${p.repo}`;
      const branch = branchOf(p.ref);
      if (branch === undefined) return { kind: 'ignore', reason: `${p.ref} is not a branch`, repo, action: null, payload: p };
      const configs = await configsForPush(engine, hooks, p);
      if (configs.length === 0) return { kind: 'ignore', reason: `${nobody} ${repo}@${branch}`, repo, action: null, payload: p };
      return { kind: 'queue', payload: p, repo, action: null };
    }
    case 'repository': {
      const parsed = parseRepositoryEvent(body);
      if (parsed.ok === false) return { kind: 'invalid', reason: parsed.reason };
      if (parsed.ok === 'ignored') return { kind: 'ignore', reason: `repository action "${parsed.action.slice(0, 40)}" is not used`, repo: repoOf(body), action: parsed.action.slice(0, 100) };
      const e = { ...parsed.value, ...hookId };
      const repo = `${e.owner}/${e.repo}`;
      const configs = await configsForDelivery(engine, hooks, e);
      if (configs.length === 0) return { kind: 'ignore', reason: `${nobody} ${repo}`, repo, action: e.action, payload: e };
      return { kind: 'queue', payload: e, repo, action: e.action };
    }
    default:
      return { kind: 'ignore', reason: `event "${event}" is not used`, repo: repoOf(body), action: null };
  }
}

/**
 * GitHub pings a webhook when it is created. The operator's ping backs the
 * repository it names; a per-config ping backs its config only, and only
 * when it comes from that config's repository (or the organization that
 * owns it).
 */
async function classifyPing(engine: WebhookEngine, scope: DeliveryScope, body: unknown): Promise<Intake> {
  const repo = repoOf(body);
  if (scope.kind === 'operator') return { kind: 'ack', result: 'ping', repo, action: null, backs: repo !== null };
  const config = await engine.config(scope.guildId);
  if (config === null) return { kind: 'ack', result: 'ping: this webhook has no prompt config any more', repo, action: null, backs: false };
  const [owner, name] = (repo ?? '').split('/');
  const org = orgOf(body);
  const matches = owner !== undefined && name !== undefined && repo !== null ? readsRepository(config, owner, name) : org !== null && org.toLowerCase() === config.owner.toLowerCase();
  const result = matches ? 'ping' : `ping: from ${repo ?? org ?? 'an unnamed source'}, but this webhook's config reads ${config.owner}/${config.repo}`;
  return { kind: 'ack', result, repo, action: null, backs: matches };
}

/** `owner/name` for the row, when the body names a plausible repository. */
function repoOf(body: unknown): string | null {
  const name = (body as { repository?: { full_name?: unknown } } | null)?.repository?.full_name;
  return typeof name === 'string' && /^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/.test(name) ? name : null;
}

/** The organization an organization webhook's ping names. */
function orgOf(body: unknown): string | null {
  const login = (body as { organization?: { login?: unknown } } | null)?.organization?.login;
  return typeof login === 'string' && /^[A-Za-z0-9-]{1,39}$/.test(login) ? login : null;
}
