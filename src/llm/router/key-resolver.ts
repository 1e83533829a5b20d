/**
 * The credential policy: a guild's own key serves only that guild; the
 * operator's key serves a guild only when that guild is allowed to use it.
 * Lookups are injected (vault, environment, guild settings); the rule lives here.
 */
import type { KeyResolution, KeyResolver } from './types.ts';

interface KeySources {
  /** The guild's own key for a provider, from the vault. */
  guildKey(provider: string, guildId: string): string | undefined | Promise<string | undefined>;
  /** The operator's key for a provider, from the environment. */
  operatorKey(provider: string): string | undefined;
  /** Whether a guild without its own key may spend the operator's. */
  mayUseOperatorKey(guildId: string): boolean | Promise<boolean>;
}

const NONE: KeyResolution = Object.freeze({ source: 'none' });

export function createKeyResolver(sources: KeySources): KeyResolver {
  return async (provider, guildId) => {
    if (guildId === undefined) {
      // No guild (CLI, operator tasks): only the operator's key can apply.
      const operator = sources.operatorKey(provider);
      return operator ? { apiKey: operator, source: 'operator' } : NONE;
    }
    const own = await sources.guildKey(provider, guildId);
    if (own) return { apiKey: own, source: 'guild' };
    if (!(await sources.mayUseOperatorKey(guildId))) return NONE;
    const operator = sources.operatorKey(provider);
    return operator ? { apiKey: operator, source: 'operator' } : NONE;
  };
}
