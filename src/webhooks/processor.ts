import type { InvalidationPublisher } from '../invalidation/bus.ts';
import { MAX_EVENT_GUILDS, type InvalidationEvent } from '../invalidation/events.ts';
import type { PromptEngine } from '../prompts/engine.ts';
import { describeOutcome } from '../prompts/outcome-text.ts';
import { headOf, isSuccess, type RefreshOutcome } from '../prompts/refresh-outcome.ts';
import type { PromptConfig } from '../prompts/prompt-config-store.ts';
import type { CacheTarget, RefreshResult } from '../prompts/snapshot-cache.ts';
import type { Clock } from '../resilience/clock.ts';
import type { ConfigHookStore } from './config-hooks.ts';
import { branchOf, type DeliveryPayload, type PushEssentials, type RepositoryEssentials } from './payloads.ts';
import type { RefreshLimiter } from './refresh-limiter.ts';

/** The parts of the prompt engine webhooks drive. */
export type WebhookEngine = Pick<PromptEngine, 'configs' | 'cache' | 'targetFor' | 'expireRepository' | 'markWebhookBacked'>;

export type HookLookup = Pick<ConfigHookStore, 'byId' | 'recordDelivery'>;

/** Configs that read one snapshot, refreshed together for a push whose new head is `after`. */
export interface PushGroup {
  target: CacheTarget;
  configs: PromptConfig[];
  after: string;
  deleted: boolean;
  /** Asked for by the operator's webhook (which speaks for the whole repository). */
  operator: boolean;
}

export interface ProcessorDeps {
  engine: WebhookEngine;
  hooks: HookLookup;
  bus: InvalidationPublisher;
  clock: Clock;
  /** Delivery-caused refreshes, per repository. */
  limiter: RefreshLimiter<PushGroup>;
  /** Whether a commit was replaced on the branch by a push already processed for the same configs. */
  replacedInPush: (push: { repo: string; ref: string; sha: string; hookId: string | undefined }) => Promise<boolean>;
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

/**
 * The configs a delivery may change. The operator's webhook (its secret is
 * the operator's alone) speaks for every config of the repository; a
 * per-config hook only for its own config, and only when that config reads
 * the repository the body names.
 */
export async function configsForDelivery(
  engine: WebhookEngine,
  hooks: HookLookup,
  delivery: { owner: string; repo: string; hookId?: string | undefined },
): Promise<PromptConfig[]> {
  if (delivery.hookId === undefined) return engine.configs.byRepository(delivery.owner, delivery.repo);
  const hook = await hooks.byId(delivery.hookId);
  if (hook === undefined) return [];
  const config = await engine.configs.get(hook.guildId);
  if (config === null || !readsRepository(config, delivery.owner, delivery.repo)) return [];
  return [config];
}

export function readsRepository(config: Pick<PromptConfig, 'owner' | 'repo'>, owner: string, repo: string): boolean {
  return config.owner.toLowerCase() === owner.toLowerCase() && config.repo.toLowerCase() === repo.toLowerCase();
}

/** The configs a push to this ref concerns. */
export async function configsForPush(
  engine: WebhookEngine,
  hooks: HookLookup,
  push: Pick<PushEssentials, 'owner' | 'repo' | 'ref' | 'hookId'>,
): Promise<PromptConfig[]> {
  const branch = branchOf(push.ref);
  if (branch === undefined) return [];
  const configs = await configsForDelivery(engine, hooks, push);
  return configs.filter((c) => c.enabled && c.branch === branch);
}

async function processPush(deps: ProcessorDeps, push: PushEssentials): Promise<string> {
  const { engine, clock } = deps;
  const branch = branchOf(push.ref);
  const configs = await configsForPush(engine, deps.hooks, push);
  const name = `${push.owner}/${push.repo}`;
  if (branch === undefined || configs.length === 0) {
    return `ignored: ${push.hookId === undefined ? 'no guild uses' : "this webhook's config does not use"} ${name}@${branch ?? push.ref} any more`;
  }
  // A signed push proves this repo's changes reach the configs it may change.
  if (push.hookId === undefined) engine.markWebhookBacked(push.owner, push.repo, clock.now());
  else await deps.hooks.recordDelivery(push.hookId, new Date(clock.now()), true);

  // Guilds reading the repo with the same credentials share one snapshot: one fetch each.
  const groups = new Map<string, PushGroup>();
  for (const config of configs) {
    const target = engine.targetFor(config);
    const group = groups.get(target.cacheKey) ?? { target, configs: [], after: push.after, deleted: push.deleted, operator: push.hookId === undefined };
    group.configs.push(config);
    groups.set(target.cacheKey, group);
  }

  // The same push often arrives more than once (a repository and an
  // organization webhook, a redelivery or a replay under a new id): a head
  // the bot already holds, or one it has moved past, needs nothing.
  const work = new Map<string, PushGroup>();
  const skipped: string[] = [];
  for (const [key, group] of groups) {
    const stale = push.deleted ? undefined : await staleness(deps, group, push);
    if (stale === undefined) work.set(key, group);
    else skipped.push(`${group.target.label} ${stale}`);
  }
  if (work.size === 0) return `ignored: ${skipped.join('; ')}`.slice(0, 2000);

  await engine.configs.recordPush(
    [...work.values()].flatMap((g) => g.configs.map((c) => c.guildId)),
    new Date(clock.now()),
  );
  const limited = await deps.limiter.submit(`${push.owner}/${push.repo}`.toLowerCase(), work, (merged) => refreshGroups(deps, push.owner, push.repo, merged));
  const noted = skipped.length === 0 ? '' : `; ${skipped.join('; ')}`;
  if (limited.kind === 'coalesced') {
    return `push to ${name}@${branch} for ${configs.length} guild(s): merged into the refresh already scheduled for ${name}${noted}`.slice(0, 2000);
  }
  const delayed = limited.delayed ? ' (after the per-repository refresh interval)' : '';
  return `push to ${name}@${branch} for ${configs.length} guild(s)${delayed}: ${limited.result.join('; ')}${noted}`.slice(0, 2000);
}

/**
 * Why a push needs no refresh of this snapshot, or undefined when it does.
 * Known: the pushed head is the commit held (or last synced) already.
 * Older: the push does not continue from the commit held (its `before` is
 * another commit) and its head was replaced on this branch by a push the
 * bot processed: an old push replayed. A push that continues from the held
 * commit is always news, even one that force-pushes the branch back to an
 * earlier commit.
 */
async function staleness(deps: ProcessorDeps, group: PushGroup, push: PushEssentials): Promise<string | undefined> {
  const held = deps.engine.cache.peek(group.target.cacheKey);
  const synced = group.configs.map((c) => c.lastSyncCommit);
  const current = held?.invalidHead?.commit ?? held?.commit ?? (synced.every((c) => c === synced[0]) ? synced[0] : null) ?? null;
  if (current === push.after) return `already at ${push.after.slice(0, 7)}`;
  if (push.before !== undefined && push.before === current) return undefined;
  const seen = await deps.replacedInPush({ repo: `${push.owner}/${push.repo}`, ref: push.ref, sha: push.after, hookId: push.hookId });
  return seen ? `is past ${push.after.slice(0, 7)} already (an old push replayed)` : undefined;
}

/** The limited part: expire, fetch, record, announce. Several deliveries' groups may arrive merged here. */
async function refreshGroups(deps: ProcessorDeps, owner: string, repo: string, work: Map<string, PushGroup>): Promise<string[]> {
  const { engine } = deps;
  // A snapshot already at the newest pushed head (a merged group another key's flight fetched) needs no fetch.
  const atHead = new Set<string>();
  for (const [key, group] of work) {
    const held = engine.cache.peek(key);
    if (!group.deleted && held?.commit === group.after && held.invalidHead === undefined && held.denied === undefined && held.expiredAt === undefined) atHead.add(key);
  }
  engine.cache.expire((id) => work.has(id.cacheKey) && !atHead.has(id.cacheKey));
  const outcomes: string[] = [];
  // Merged deliveries may name other branches of the repository: announce each branch with what was fetched for it.
  const byRef = new Map<string, { groups: PushGroup[]; commits: Set<string | null> }>();
  for (const [key, group] of work) {
    let outcome: RefreshOutcome;
    if (atHead.has(key)) {
      outcome = { kind: 'unchanged', commit: group.after };
      await engine.configs.recordSync(group.configs.map((c) => c.guildId), outcome, `${owner}/${repo}`);
    } else {
      // The cache records the refresh's outcome on every guild it serves; a failure to record is retried.
      const result = await fetchPushed(engine, group.target, group);
      await result.recorded;
      outcome = result.outcome;
    }
    const head = headOf(outcome);
    const ref = byRef.get(group.target.ref) ?? { groups: [], commits: new Set<string | null>() };
    ref.groups.push(group);
    ref.commits.add(group.deleted ? null : head);
    byRef.set(group.target.ref, ref);
    outcomes.push(`${group.target.label} ${isSuccess(outcome) ? `at ${head?.slice(0, 7) ?? '?'}` : `failed: ${describeOutcome(outcome, `${owner}/${repo}`)}`}`);
  }
  // Other processes reload what this one fetched (the commit it got, not the one the body named).
  for (const [ref, { groups, commits }] of byRef) {
    const [only] = commits;
    const commit = commits.size === 1 && only !== null && only !== undefined ? only : undefined;
    for (const event of repoEvents(owner, repo, groups, ref, commit, groups.some((g) => g.operator))) await deps.bus.publish(event);
  }
  return outcomes;
}

/**
 * The announcements of a refresh: restricted to the guilds concerned when
 * only per-config hooks asked for it (so other processes touch nothing
 * else), for the whole repository when the operator's webhook did.
 */
function repoEvents(owner: string, repo: string, groups: Array<Pick<PushGroup, 'configs'>>, ref: string | undefined, commit: string | undefined, operator = false): InvalidationEvent[] {
  const base = { kind: 'repo' as const, owner, repo, ...(ref === undefined ? {} : { ref }), ...(commit === undefined ? {} : { commit }) };
  if (operator) return [base];
  const guilds = [...new Set(groups.flatMap((g) => g.configs.map((c) => c.guildId)))];
  const events: InvalidationEvent[] = [];
  for (let i = 0; i < guilds.length; i += MAX_EVENT_GUILDS) events.push({ ...base, guilds: guilds.slice(i, i + MAX_EVENT_GUILDS) });
  return events;
}

/**
 * Fetches the pushed commit. A refresh that was already running may have
 * started before the push (the cache shares it), so when the head it got is
 * not the pushed commit, ask once more.
 */
async function fetchPushed(engine: WebhookEngine, target: CacheTarget, push: Pick<PushGroup, 'after' | 'deleted'>): Promise<RefreshResult> {
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
  const configs = await configsForDelivery(engine, deps.hooks, event);
  const old = `${event.owner}/${event.repo}`;
  if (configs.length === 0) return `ignored: ${event.hookId === undefined ? 'no guild uses' : "this webhook's config does not use"} ${old} any more`;
  if (event.hookId !== undefined) await deps.hooks.recordDelivery(event.hookId, new Date(deps.clock.now()), true);
  const message = describeRepositoryEvent(event);
  await engine.configs.recordRepoEvent(
    configs.map((c) => c.guildId),
    message,
  );
  // The old name answers 404 (or redirects) from now on: revalidate instead of serving as fresh.
  if (event.hookId === undefined) {
    engine.expireRepository(event.owner, event.repo);
  } else {
    const keys = new Set(configs.map((c) => engine.targetFor(c).cacheKey));
    engine.cache.expire((id) => keys.has(id.cacheKey));
  }
  for (const published of repoEvents(event.owner, event.repo, [{ configs }], undefined, undefined, event.hookId === undefined)) await deps.bus.publish(published);
  return `${message} (${configs.length} guild(s))`;
}

/** `<action>: <details>`, shown by `/prompt-config status`: what happened and what to do. */
function describeRepositoryEvent(event: RepositoryEssentials): string {
  const old = `${event.owner}/${event.repo}`;
  const now = `${event.newOwner ?? event.owner}/${event.newRepo ?? event.repo}`;
  switch (event.action) {
    case 'renamed':
      return `renamed: ${old} is now ${now} on GitHub; run /prompt-config set with ${now} to follow it`;
    case 'transferred':
      return `transferred: ${old} now belongs to ${event.newOwner ?? '?'} (${now}); run /prompt-config set with ${now} to follow it`;
    case 'deleted':
      return `deleted: ${old} was deleted on GitHub; once GitHub confirms it, this server uses the bundled prompts; set another repository or remove the config`;
  }
}
