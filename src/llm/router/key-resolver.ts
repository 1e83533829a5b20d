/**
 * The credential policy: a guild's own key serves only that guild; the
 * operator's key serves a guild only when that guild is allowed to use it.
 * Lookups are injected (vault, environment, guild settings); the rule lives here.
 */
import type { KeyResolution, KeyResolver, Target } from './types.ts';

interface KeySources {
  /** The guild's own key for a provider, from the vault. */
  guildKey(provider: string, guildId: string): string | undefined | Promise<string | undefined>;
  /** The operator's key for a provider, from the environment. */
  operatorKey(provider: string): string | undefined;
  /**
   * A model-group deployment's own operator key, by the variable its
   * `api_key_env` names. It replaces the provider's operator key, never a guild's own.
   */
  deploymentKey?(envName: string): string | undefined;
  /** Whether a guild without its own key may spend the operator's. */
  mayUseOperatorKey(guildId: string): boolean | Promise<boolean>;
}

const NONE: KeyResolution = Object.freeze({ source: 'none' });

export function createKeyResolver(sources: KeySources): KeyResolver {
  const operatorKey = (provider: string, target: Target | undefined): string | undefined =>
    target?.keyEnv !== undefined ? sources.deploymentKey?.(target.keyEnv) : sources.operatorKey(provider);
  return async (provider, guildId, target) => {
    if (guildId === undefined) {
      // No guild (CLI, operator tasks): only the operator's key can apply.
      const operator = operatorKey(provider, target);
      return operator ? { apiKey: operator, source: 'operator' } : NONE;
    }
    const own = await sources.guildKey(provider, guildId);
    if (own) return { apiKey: own, source: 'guild' };
    if (!(await sources.mayUseOperatorKey(guildId))) return NONE;
    const operator = operatorKey(provider, target);
    return operator ? { apiKey: operator, source: 'operator' } : NONE;
  };
}

