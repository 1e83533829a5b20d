import type { Logger } from '../log/logger.ts';
import { FALLBACK_PROMPT } from './fallback.ts';
import type { PromptMetrics } from './metrics.ts';
import type { ParsedRepo, PromptFile } from './parsed.ts';
import type { PromptConfig, PromptConfigStore } from './prompt-config-store.ts';
import { renderPrompt } from './render.ts';
import { pickPrompt } from './route.ts';
import { describeProblems, type CacheEntry, type CacheTarget, type SnapshotCache } from './snapshot-cache.ts';
import type { PromptContext, ResolutionLevel, ResolvedPrompt } from './types.ts';
import { messageOf } from '../log/error-message.ts';

interface PromptResolverDeps {
  configs: PromptConfigStore;
  cache: SnapshotCache;
  targetFor(config: PromptConfig): CacheTarget;
  /** The bundled `prompts/` repo (levels 3); null when it failed to load. */
  bundled: ParsedRepo | null;
  metrics: PromptMetrics;
  logger: Logger;
  now(): number;
}

/** Picks and renders the prompt for a request; what the summarizer and chat call. */
export interface PromptResolver {
  /** Never throws for GitHub, database or content failures: the chain ends in a compiled-in prompt. */
  resolve(guildId: string | undefined, context: PromptContext): Promise<ResolvedPrompt>;
}

export type Reason = { level: ResolutionLevel; reason: string };

/**
 * Walks the four levels of the contract: the guild's repo from a fresh
 * snapshot (custom), from an older one (cached), the bundled prompts
 * (default), and the compiled-in fallback. Every resolution says where its
 * prompt came from and why earlier levels were passed over.
 */
export function createPromptResolver(deps: PromptResolverDeps): PromptResolver {
  const { configs, cache, metrics } = deps;

  const customLevel = async (
    guildId: string,
    context: PromptContext,
    tried: string[],
    reasons: Reason[],
  ): Promise<ResolvedPrompt | undefined> => {
    const config = configs.cached(guildId) ?? (await configs.get(guildId));
    if (config === null) {
      reasons.push({ level: 'custom', reason: 'this guild has no prompt repository configured' });
      return undefined;
    }
    if (!config.enabled) {
      reasons.push({ level: 'custom', reason: 'the prompt repository is disabled for this guild' });
      return undefined;
    }
    const target = deps.targetFor(config);
    // The warm path: a fresh snapshot in memory needs no await.
    let entry: CacheEntry | undefined = cache.peek(target.cacheKey);
    let freshness = entry === undefined ? 'none' : cache.freshness(entry);
    let error: string | undefined;
    if (freshness !== 'fresh' || entry?.denied !== undefined) {
      const lookup = await cache.lookup(target);
      entry = lookup.entry;
      freshness = lookup.freshness;
      error = lookup.error;
    }
    const label = `${config.owner}/${config.repo}`;
    if (entry?.denied !== undefined) {
      // 404, 401 and 403 are GitHub's word that this credential can no longer read the repo.
      const { status, message, since } = entry.denied;
      reasons.push({ level: 'custom', reason: `${label}@${config.branch}: GitHub has answered ${status} since ${new Date(since).toISOString()} (${message})` });
      reasons.push({
        level: 'cached',
        reason:
          entry.commit === null
            ? 'no earlier snapshot of the repository is stored'
            : `the snapshot of ${entry.commit.slice(0, 7)} is kept in case access returns, but not served while GitHub refuses access`,
      });
      return undefined;
    }
    if (entry === undefined || entry.parsed === null) {
      const why = entry?.invalidHead !== undefined ? `the repository is invalid: ${describeProblems(entry.invalidHead.problems)}` : (error ?? 'no snapshot is available');
      reasons.push({ level: 'custom', reason: `${label}@${config.branch}: ${why}` });
      reasons.push({ level: 'cached', reason: 'no earlier snapshot of the repository is stored' });
      return undefined;
    }
    const staleAge = deps.now() - entry.checkedAt;
    let level: ResolutionLevel = 'custom';
    const warnings: string[] = [];
    if (freshness !== 'fresh' || entry.invalidHead !== undefined) {
      level = 'cached';
      reasons.push({ level: 'custom', reason: staleReason(entry, error) });
    }
    const found = routeInRepo(entry.parsed, context, tried);
    if ('prompt' in found) {
      return renderResolved(level, found.prompt, entry.parsed, context, {
        repo: label,
        ref: config.branch,
        tried,
        reasons,
        staleAgeMs: level === 'cached' ? staleAge : null,
        warnings,
      });
    }
    reasons.push({ level, reason: `${label}: ${found.reason}` });
    if (level === 'custom') reasons.push({ level: 'cached', reason: 'the cached snapshot is the same one' });
    return undefined;
  };

  const resolveUnmeasured = async (guildId: string | undefined, context: PromptContext): Promise<ResolvedPrompt> => {
    const tried: string[] = [];
    const reasons: Reason[] = [];
    if (guildId === undefined) {
      reasons.push({ level: 'custom', reason: 'no guild: only the bundled prompts apply' });
      reasons.push({ level: 'cached', reason: 'no guild: only the bundled prompts apply' });
    } else {
      try {
        const custom = await customLevel(guildId, context, tried, reasons);
        if (custom !== undefined) return custom;
      } catch (error) {
        deps.logger.warn({ err: error, guildId }, 'custom prompt resolution failed; using the bundled prompts');
        reasons.push({ level: 'custom', reason: `internal error: ${messageOf(error)}` });
      }
    }
    return resolveFromBundled(deps.bundled, context, tried, reasons);
  };

  /**
   * The warm path without a single await: the config and a fresh snapshot
   * are in memory. Anything else (a miss, a stale or broken snapshot, no
   * route) goes the full way, which also records the reasons.
   */
  const resolveWarm = (guildId: string, context: PromptContext): ResolvedPrompt | undefined => {
    const config = configs.cached(guildId);
    if (config === undefined || config === null || !config.enabled) return undefined;
    const entry = cache.peek(deps.targetFor(config).cacheKey);
    if (entry === undefined || entry.parsed === null || entry.invalidHead !== undefined || entry.denied !== undefined) return undefined;
    if (cache.freshness(entry) !== 'fresh') return undefined;
    const tried: string[] = [];
    const found = routeInRepo(entry.parsed, context, tried);
    if (!('prompt' in found)) return undefined;
    return renderResolved('custom', found.prompt, entry.parsed, context, {
      repo: `${config.owner}/${config.repo}`,
      ref: config.branch,
      tried,
      reasons: [],
      staleAgeMs: null,
      warnings: [],
    });
  };

  return {
    async resolve(guildId, context) {
      const started = performance.now();
      const resolved = (guildId === undefined ? undefined : resolveWarm(guildId, context)) ?? (await resolveUnmeasured(guildId, context));
      metrics.resolved(resolved.level, (performance.now() - started) / 1000);
      return resolved;
    },
  };
}

function staleReason(entry: CacheEntry, error: string | undefined): string {
  if (entry.invalidHead !== undefined) {
    return `the newest commit ${entry.invalidHead.commit.slice(0, 7)} is invalid (${describeProblems(entry.invalidHead.problems)}); serving the last valid commit`;
  }
  if (error !== undefined) return `GitHub could not be reached (${error}); serving an older snapshot`;
  if (entry.lastError !== undefined) return `the last refresh failed (${entry.lastError.message}); serving an older snapshot`;
  return 'the snapshot is older than the cache TTL; serving it while it refreshes';
}

/**
 * Levels 3 and 4: the bundled prompts routed with the same context, then the
 * compiled-in fallback. Shared by the resolver and `prompts resolve`.
 */
export function resolveFromBundled(
  bundled: ParsedRepo | null,
  context: PromptContext,
  tried: string[],
  reasons: Reason[],
): ResolvedPrompt {
  if (bundled !== null) {
    const found = routeInRepo(bundled, context, tried);
    if ('prompt' in found) {
      return renderResolved('default', found.prompt, bundled, context, {
        repo: 'bundled',
        ref: null,
        tried,
        reasons,
        staleAgeMs: null,
        warnings: [],
      });
    }
    reasons.push({ level: 'default', reason: `bundled prompts: ${found.reason}` });
  } else {
    reasons.push({ level: 'default', reason: 'the bundled prompts failed to load' });
  }
  return {
    level: 'fallback',
    repo: null,
    ref: null,
    commit: null,
    path: null,
    tried,
    reasons,
    staleAgeMs: null,
    content: renderPrompt(FALLBACK_PROMPT, context),
    parameters: FALLBACK_PROMPT.parameters,
    description: FALLBACK_PROMPT.description,
    warnings: [],
  };
}

/** Routes a context in one repo; the paths looked at are appended to `tried`. */
export function routeInRepo(repo: ParsedRepo, context: PromptContext, tried: string[]): { prompt: PromptFile } | { reason: string } {
  const pick = pickPrompt(repo, context);
  for (const path of pick.tried) tried.push(path);
  if (pick.path !== null) {
    const prompt = repo.prompts.get(pick.path);
    if (prompt !== undefined) return { prompt };
  }
  const skipped = pick.passedOver.map((p) => `${p.path} (${p.reason})`).join('; ');
  return {
    reason:
      pick.tried.length === 0
        ? 'no route of PATH applies to this request'
        : `none of the routed files exists in the snapshot${skipped === '' ? '' : `; skipped: ${skipped}`}`,
  };
}

export function renderResolved(
  level: ResolutionLevel,
  prompt: PromptFile,
  repo: ParsedRepo,
  context: PromptContext,
  meta: { repo: string; ref: string | null; tried: string[]; reasons: Reason[]; staleAgeMs: number | null; warnings: string[] },
): ResolvedPrompt {
  return {
    level,
    repo: meta.repo,
    ref: meta.ref,
    commit: repo.commit,
    path: prompt.path,
    tried: meta.tried,
    reasons: meta.reasons,
    staleAgeMs: meta.staleAgeMs,
    content: renderPrompt(prompt, context, repo.routing.variables),
    parameters: prompt.parameters,
    ...(prompt.description === undefined ? {} : { description: prompt.description }),
    warnings: meta.warnings,
  };
}
