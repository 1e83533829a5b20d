import type { InvalidationPublisher } from '../invalidation/bus.ts';
import type { PromptEngine } from '../prompts/engine.ts';
import { describeOutcome } from '../prompts/outcome-text.ts';
import { headOf, isSuccess, type RefreshOutcome } from '../prompts/refresh-outcome.ts';
import type { PromptConfig } from '../prompts/prompt-config-store.ts';
import type { CacheTarget, RefreshResult } from '../prompts/snapshot-cache.ts';
import type { Clock } from '../resilience/clock.ts';
import { branchOf, type DeliveryPayload, type PushEssentials, type RepositoryEssentials } from './payloads.ts';

/** The parts of the prompt engine webhooks drive. */
export type WebhookEngine = Pick<PromptEngine, 'configs' | 'cache' | 'targetFor' | 'expireRepository' | 'markWebhookBacked'>;

export interface ProcessorDeps {
  engine: WebhookEngine;
  bus: InvalidationPublisher;
  clock: Clock;
}

/**
 * Does the work of a queued delivery; returns what it did, for the
 * delivery's row. Throws only when the work should be retried (the
 * database is unavailable): GitHub failures are recorded as sync errors,
 * since the next resolution retries GitHub anyway.
 */
export type DeliveryProcessor = (payload: DeliveryPayload) => Promise<string>;

export function createDeliveryProcessor(deps: ProcessorDeps): DeliveryProcessor {
  return (payload) => (payload.kind === 'push' ? processPush(deps, payload) : processRepositoryEvent(deps, payload));
}

/** The configs a push to this ref concerns. */
export async function configsForPush(engine: WebhookEngine, push: Pick<PushEssentials, 'owner' | 'repo' | 'ref'>): Promise<PromptConfig[]> {
  const branch = branchOf(push.ref);
  if (branch === undefined) return [];
  const configs = await engine.configs.byRepository(push.owner, push.repo);
  return configs.filter((c) => c.enabled && c.branch === branch);
}

async function processPush(deps: ProcessorDeps, push: PushEssentials): Promise<string> {
  const { engine, clock } = deps;
  // A signed push proves this repo's changes reach us: its TTL becomes a backstop.
  engine.markWebhookBacked(push.owner, push.repo, clock.now());
  const branch = branchOf(push.ref);
  const configs = await configsForPush(engine, push);
  if (branch === undefined || configs.length === 0) return `ignored: no guild uses ${push.owner}/${push.repo}@${branch ?? push.ref} any more`;

  // Guilds reading the repo with the same credentials share one snapshot: one fetch each.
  const groups = new Map<string, { target: CacheTarget; configs: PromptConfig[] }>();
  for (const config of configs) {
    const target = engine.targetFor(config);
    const group = groups.get(target.cacheKey) ?? { target, configs: [] };
    group.configs.push(config);
    groups.set(target.cacheKey, group);
  }
  // The same push often arrives more than once (a repository and an
  // organization webhook, a redelivery under a new id): a snapshot already
  // at the pushed commit needs nothing from GitHub.
  const current = new Set<string>();
  for (const key of groups.keys()) {
    const held = engine.cache.peek(key);
    if (!push.deleted && held?.commit === push.after && held.invalidHead === undefined && held.denied === undefined && held.expiredAt === undefined) {
      current.add(key);
    }
  }
  if (current.size < groups.size) engine.expireRepository(push.owner, push.repo, branch);
  await engine.configs.recordPush(
    configs.map((c) => c.guildId),
    new Date(clock.now()),
  );

  const outcomes: string[] = [];
  for (const { target, configs: using } of groups.values()) {
    let outcome: RefreshOutcome;
    if (current.has(target.cacheKey)) {
      outcome = { kind: 'unchanged', commit: push.after };
      await engine.configs.recordSyncMany(
        using.map((c) => c.guildId),
        'ok',
        push.after,
        [],
      );
    } else {
      // The cache records the refresh's outcome on every guild it serves; a failure to record is retried.
      const result = await fetchPushed(engine, target, push);
      await result.recorded;
      outcome = result.outcome;
    }
    outcomes.push(`${target.label} ${isSuccess(outcome) ? `at ${headOf(outcome)?.slice(0, 7) ?? '?'}` : `failed: ${describeOutcome(outcome, `${target.owner}/${target.repo}`)}`}`);
  }

  await deps.bus.publish({
    kind: 'repo',
    owner: push.owner,
    repo: push.repo,
    ref: branch,
    ...(push.deleted ? {} : { commit: push.after }),
  });
  return `push to ${push.owner}/${push.repo}@${branch} for ${configs.length} guild(s): ${outcomes.join('; ')}`.slice(0, 2000);
}

/**
 * Fetches the pushed commit. A refresh that was already running may have
 * started before the push (the cache shares it), so when the head it got is
 * not the pushed commit, ask once more.
 */
async function fetchPushed(engine: WebhookEngine, target: CacheTarget, push: PushEssentials): Promise<RefreshResult> {
  const result = await engine.cache.refresh(target, { force: true });
  if (push.deleted) return result;
  const head = headOf(result.outcome);
  if (head !== null && head !== push.after) {
    await result.recorded;
    return engine.cache.refresh(target, { force: true });
  }
  return result;
}

async function processRepositoryEvent(deps: ProcessorDeps, event: RepositoryEssentials): Promise<string> {
  const { engine } = deps;
  const configs = await engine.configs.byRepository(event.owner, event.repo);
  const old = `${event.owner}/${event.repo}`;
  if (configs.length === 0) return `ignored: no guild uses ${old} any more`;
  const message = describeRepositoryEvent(event);
  await engine.configs.recordRepoEvent(
    configs.map((c) => c.guildId),
    message,
  );
  // The old name answers 404 (or redirects) from now on: revalidate instead of serving as fresh.
  engine.expireRepository(event.owner, event.repo);
  await deps.bus.publish({ kind: 'repo', owner: event.owner, repo: event.repo });
  return `${message} (${configs.length} guild(s))`;
}

/** `<action>: <details>`, shown by `/prompt-config status`: what happened and what to do. */
export function describeRepositoryEvent(event: RepositoryEssentials): string {
  const old = `${event.owner}/${event.repo}`;
  const now = `${event.newOwner ?? event.owner}/${event.newRepo ?? event.repo}`;
  switch (event.action) {
    case 'renamed':
      return `renamed: ${old} is now ${now} on GitHub; run /prompt-config set with ${now} to follow it`;
    case 'transferred':
      return `transferred: ${old} now belongs to ${event.newOwner ?? '?'} (${now}); run /prompt-config set with ${now} to follow it`;
    case 'deleted':
      return `deleted: ${old} was deleted on GitHub; the last snapshot is served until it expires; set another repository or remove the config`;
  }
}
