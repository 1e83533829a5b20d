import { MAX_EVENT_GUILDS, type InvalidationEvent } from '../invalidation/events.ts';
import { expireConfigs, expireRepository, type EngineParts } from './engine-parts.ts';
import { describeOutcome } from './outcome-text.ts';
import type { PromptConfig } from './prompt-config-store.ts';
import { headOf, isSuccess, type RefreshOutcome } from './refresh-outcome.ts';
import type { CacheTarget, RefreshResult } from './snapshot-cache.ts';

/** Configs that read one snapshot, refreshed together for a push whose new head is `after`. */
export interface PushGroup {
  target: CacheTarget;
  configs: PromptConfig[];
  after: string;
  deleted: boolean;
  /** Asked for by the operator's webhook (which speaks for the whole repository). */
  operator: boolean;
}

/** A signed push, with the configs its secret may change. */
export interface ReceivedPush {
  owner: string;
  repo: string;
  after: string;
  /** The head the push continues from, when GitHub names it. */
  before?: string | undefined;
  deleted: boolean;
  /** Signed with the operator's secret (the whole repository), not one config's. */
  operator: boolean;
  configs: PromptConfig[];
  /** Whether `after` was replaced on the branch by a push already processed for these configs. */
  replaced(): Promise<boolean>;
}

/** The snapshots a push needs refreshed (by cache key), and why each other one does not. */
export interface PushPlan {
  work: Map<string, PushGroup>;
  skipped: string[];
}

/**
 * A signed push arrived: trusts the repository's webhooks (the operator's
 * secret only), groups its configs by the snapshot they share (one fetch
 * each), drops the snapshots the push brings nothing new to, and records the
 * push on the guilds whose snapshots it does.
 */
export async function receivePush(parts: EngineParts, push: ReceivedPush): Promise<PushPlan> {
  const { clock } = parts;
  // A signed push proves this repo's changes reach the configs it may change.
  if (push.operator) parts.trust.mark(push.owner, push.repo, clock.now());

  const groups = new Map<string, PushGroup>();
  for (const config of push.configs) {
    const target = parts.targetFor(config);
    const group = groups.get(target.cacheKey) ?? { target, configs: [], after: push.after, deleted: push.deleted, operator: push.operator };
    group.configs.push(config);
    groups.set(target.cacheKey, group);
  }

  // The same push often arrives more than once (a repository and an
  // organization webhook, a redelivery or a replay under a new id): a head
  // the bot already holds, or one it has moved past, needs nothing.
  const work = new Map<string, PushGroup>();
  const skipped: string[] = [];
  for (const [key, group] of groups) {
    const stale = push.deleted ? undefined : await staleness(parts, group, push);
    if (stale === undefined) work.set(key, group);
    else skipped.push(`${group.target.label} ${stale}`);
  }
  if (work.size > 0) {
    await parts.configs.recordPush(
      [...work.values()].flatMap((g) => g.configs.map((c) => c.guildId)),
      new Date(clock.now()),
    );
  }
  return { work, skipped };
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
async function staleness(parts: EngineParts, group: PushGroup, push: ReceivedPush): Promise<string | undefined> {
  const held = parts.cache.peek(group.target.cacheKey);
  const synced = group.configs.map((c) => c.lastSyncCommit);
  const current = held?.invalidHead?.commit ?? held?.commit ?? (synced.every((c) => c === synced[0]) ? synced[0] : null) ?? null;
  if (current === push.after) return `already at ${push.after.slice(0, 7)}`;
  if (push.before !== undefined && push.before === current) return undefined;
  return (await push.replaced()) ? `is past ${push.after.slice(0, 7)} already (an old push replayed)` : undefined;
}

/**
 * Refreshes what a push planned: expire, fetch, record, announce. Several
 * deliveries' plans may arrive merged here. Returns one line per snapshot.
 */
export async function applyPush(parts: EngineParts, owner: string, repo: string, work: Map<string, PushGroup>): Promise<string[]> {
  const { cache, configs } = parts;
  // A snapshot already at the newest pushed head (a merged group another key's flight fetched) needs no fetch.
  const atHead = new Set<string>();
  for (const [key, group] of work) {
    const held = cache.peek(key);
    if (!group.deleted && held?.commit === group.after && held.invalidHead === undefined && held.denied === undefined && held.expiredAt === undefined) atHead.add(key);
  }
  cache.expire((id) => work.has(id.cacheKey) && !atHead.has(id.cacheKey));
  const outcomes: string[] = [];
  // Merged deliveries may name other branches of the repository: announce each branch with what was fetched for it.
  const byRef = new Map<string, { groups: PushGroup[]; commits: Set<string | null> }>();
  for (const [key, group] of work) {
    let outcome: RefreshOutcome;
    if (atHead.has(key)) {
      outcome = { kind: 'unchanged', commit: group.after };
      await configs.recordSync(group.configs.map((c) => c.guildId), outcome, `${owner}/${repo}`);
    } else {
      // The cache records the refresh's outcome on every guild it serves; a failure to record is retried.
      const result = await fetchPushed(parts, group.target, group);
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
    for (const event of repoEvents(owner, repo, groups, ref, commit, groups.some((g) => g.operator))) await parts.publish(event);
  }
  return outcomes;
}

/**
 * Fetches the pushed commit. A refresh that was already running may have
 * started before the push (the cache shares it), so when the head it got is
 * not the pushed commit, ask once more.
 */
async function fetchPushed(parts: EngineParts, target: CacheTarget, push: Pick<PushGroup, 'after' | 'deleted'>): Promise<RefreshResult> {
  const result = await parts.cache.refresh(target, { force: true });
  if (push.deleted) return result;
  const head = headOf(result.outcome);
  if (head !== null && head !== push.after) {
    await result.recorded;
    return parts.cache.refresh(target, { force: true });
  }
  return result;
}

/** A repository was renamed, transferred or deleted on GitHub, as a signed delivery says. */
export interface RepositoryChange {
  owner: string;
  repo: string;
  /** The guilds' configs the delivery's secret may change. */
  configs: PromptConfig[];
  /** Signed with the operator's secret (the whole repository), not one config's. */
  operator: boolean;
  /** What `/prompt-config status` shows: what happened and what to do. */
  message: string;
}

/** Records the change on the guilds, stops serving their snapshots as fresh, and tells the other processes. */
export async function applyRepositoryEvent(parts: EngineParts, change: RepositoryChange): Promise<void> {
  await parts.configs.recordRepoEvent(
    change.configs.map((c) => c.guildId),
    change.message,
  );
  // The old name answers 404 (or redirects) from now on: revalidate instead of serving as fresh.
  if (change.operator) expireRepository(parts, change.owner, change.repo);
  else expireConfigs(parts, change.configs);
  for (const event of repoEvents(change.owner, change.repo, [{ configs: change.configs }], undefined, undefined, change.operator)) await parts.publish(event);
}

/**
 * The announcements of a refresh: restricted to the guilds concerned when
 * only per-config hooks asked for it (so other processes touch nothing
 * else), for the whole repository when the operator's webhook did.
 */
function repoEvents(owner: string, repo: string, groups: Array<Pick<PushGroup, 'configs'>>, ref: string | undefined, commit: string | undefined, operator: boolean): InvalidationEvent[] {
  const base = { kind: 'repo' as const, owner, repo, ...(ref === undefined ? {} : { ref }), ...(commit === undefined ? {} : { commit }) };
  if (operator) return [base];
  const guilds = [...new Set(groups.flatMap((g) => g.configs.map((c) => c.guildId)))];
  const events: InvalidationEvent[] = [];
  for (let i = 0; i < guilds.length; i += MAX_EVENT_GUILDS) events.push({ ...base, guilds: guilds.slice(i, i + MAX_EVENT_GUILDS) });
  return events;
}
