import type { Logger } from '../log/logger.ts';
import type { PromptEngine } from '../prompts/engine.ts';
import type { CacheTarget } from '../prompts/snapshot-cache.ts';
import type { InvalidationBus } from './bus.ts';
import type { InvalidationEvent } from './events.ts';

/** The parts of the prompt engine that other processes' changes reach. */
type InvalidatedEngine = Pick<PromptEngine, 'configs' | 'cache' | 'targetFor' | 'forgetGuild' | 'expireRepository'>;

/**
 * Applies other processes' invalidations to this process's prompt engine.
 * Returns the unsubscribe function.
 */
export function wireInvalidation(bus: Pick<InvalidationBus, 'subscribe'>, engine: InvalidatedEngine, logger: Logger): () => void {
  return bus.subscribe((event) => applyInvalidation(engine, event, logger));
}

/** Resolves once the change is applied (the background reloads it starts are not waited for). */
export async function applyInvalidation(engine: InvalidatedEngine, event: InvalidationEvent, logger: Logger): Promise<void> {
  switch (event.kind) {
    case 'guild':
      engine.forgetGuild(event.guildId);
      return;
    case 'all':
      engine.configs.invalidateAll();
      engine.cache.expire(() => true);
      return;
    case 'repo':
      await applyRepoEvent(engine, event, logger);
      return;
  }
}

async function applyRepoEvent(
  engine: InvalidatedEngine,
  event: Extract<InvalidationEvent, { kind: 'repo' }>,
  logger: Logger,
): Promise<void> {
  // Without a commit there is nothing stored to trust: nothing held may be
  // served as fresh any more. With one, the held snapshots are swapped for
  // the stored commit below; expiring them first would send every request
  // in between to GitHub for the same commit.
  if (event.commit === undefined && event.guilds === undefined) engine.expireRepository(event.owner, event.repo, event.ref);
  // The configs of these guilds changed too (last push, last sync).
  const configs = (await engine.configs.byRepository(event.owner, event.repo)).filter(
    (c) => (event.ref === undefined || c.branch === event.ref) && (event.guilds === undefined || event.guilds.includes(c.guildId)),
  );
  if (event.commit === undefined && event.guilds !== undefined) {
    const keys = new Set(configs.map((c) => engine.targetFor(c).cacheKey));
    engine.cache.expire((id) => keys.has(id.cacheKey));
  }
  const held = new Map<string, CacheTarget>();
  for (const config of configs) {
    engine.configs.invalidate(config.guildId);
    const target = engine.targetFor(config);
    if (engine.cache.peek(target.cacheKey) !== undefined) held.set(target.cacheKey, target);
  }
  for (const target of held.values()) {
    reload(engine, target, event.commit).catch((error: unknown) =>
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
async function reload(engine: InvalidatedEngine, target: CacheTarget, commit: string | undefined): Promise<void> {
  if (commit === undefined) {
    await engine.cache.refresh(target, { force: true });
    return;
  }
  engine.cache.forget(target.cacheKey);
  const { entry } = await engine.cache.lookup(target);
  const current = entry?.invalidHead?.commit ?? entry?.commit;
  if (current !== commit) {
    engine.cache.expire((id) => id.cacheKey === target.cacheKey);
    await engine.cache.refresh(target, { force: true });
  }
}
