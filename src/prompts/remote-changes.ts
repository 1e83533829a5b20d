import type { InvalidationEvent } from '../invalidation/events.ts';
import { expireConfigs, expireRepository, type EngineParts } from './engine-parts.ts';
import type { CacheTarget } from './snapshot-cache.ts';

/**
 * Applies another process's change to what this process holds. Resolves
 * once the change is applied (the background reloads it starts are not
 * waited for).
 */
export async function applyRemote(parts: EngineParts, event: InvalidationEvent): Promise<void> {
  switch (event.kind) {
    case 'guild':
      forgetGuild(parts, event.guildId);
      return;
    case 'all':
      parts.configs.invalidateAll();
      parts.cache.expire(() => true);
      return;
    case 'repo':
      await applyRepoEvent(parts, event);
      return;
  }
}

/** Drops what this process remembers about a guild's config and the snapshot it read. */
export function forgetGuild(parts: Pick<EngineParts, 'configs' | 'cache' | 'targetFor'>, guildId: string): void {
  const current = parts.configs.cached(guildId);
  parts.configs.invalidate(guildId);
  if (current) parts.cache.expire((id) => id.cacheKey === parts.targetFor(current).cacheKey);
}

async function applyRepoEvent(parts: EngineParts, event: Extract<InvalidationEvent, { kind: 'repo' }>): Promise<void> {
  const { configs, cache, targetFor, logger } = parts;
  // Without a commit there is nothing stored to trust: nothing held may be
  // served as fresh any more. With one, the held snapshots are swapped for
  // the stored commit below; expiring them first would send every request
  // in between to GitHub for the same commit.
  if (event.commit === undefined && event.guilds === undefined) expireRepository(parts, event.owner, event.repo, event.ref);
  // The configs of these guilds changed too (last push, last sync).
  const concerned = (await configs.byRepository(event.owner, event.repo)).filter(
    (c) => (event.ref === undefined || c.branch === event.ref) && (event.guilds === undefined || event.guilds.includes(c.guildId)),
  );
  if (event.commit === undefined && event.guilds !== undefined) expireConfigs(parts, concerned);
  const held = new Map<string, CacheTarget>();
  for (const config of concerned) {
    configs.invalidate(config.guildId);
    const target = targetFor(config);
    if (cache.peek(target.cacheKey) !== undefined) held.set(target.cacheKey, target);
  }
  for (const target of held.values()) {
    reload(parts, target, event.commit).catch((error: unknown) =>
      logger.warn({ err: error, repo: target.label }, 'could not reload a pushed prompt snapshot'),
    );
  }
}

/**
 * After a push the publishing process has already fetched the pushed
 * commit and stored it, so read it from the shared store rather than asking
 * GitHub again; only when the store does not have that commit does this
 * process fetch. Without a commit (a deleted branch, a renamed repository)
 * there is nothing stored to trust: revalidate with GitHub.
 */
async function reload(parts: Pick<EngineParts, 'cache'>, target: CacheTarget, commit: string | undefined): Promise<void> {
  const { cache } = parts;
  if (commit === undefined) {
    await cache.refresh(target, { force: true });
    return;
  }
  cache.forget(target.cacheKey);
  const { entry } = await cache.lookup(target);
  const current = entry?.invalidHead?.commit ?? entry?.commit;
  if (current !== commit) {
    cache.expire((id) => id.cacheKey === target.cacheKey);
    await cache.refresh(target, { force: true });
  }
}
