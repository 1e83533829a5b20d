/**
 * Bring-your-own-key: a guild's provider keys live in the vault under
 * `provider-key:<provider>`, sealed to that guild. The key resolver hands a
 * guild its own key, else the operator's when the guild allows it, else none
 * (the policy itself is src/llm/router/key-resolver.ts).
 *
 * Decrypted keys are cached only as `Secret`s and only briefly (60 s by
 * default), so a call does not open the vault each time yet plaintext does
 * not linger; setting or removing a key drops its cache entry at once.
 */
import type { Kysely } from 'kysely';
import { LRUCache } from 'lru-cache';
import { recordAudit } from '../audit/audit-log.ts';
import type { Secret } from '../config/secret.ts';
import type { Database } from '../db/schema.ts';
import type { Clock } from '../resilience/clock.ts';
import { createKeyResolver } from './router/key-resolver.ts';
import type { KeyResolver } from './router/types.ts';
import type { Vault } from '../vault/vault.ts';
import type { GuildAiSettingsStore } from './guild-ai-settings.ts';
import type { AuditActor } from '../audit/audit-log.ts';
import type { ProviderSecrets } from './provider-secrets.ts';

export type KeyVault = Pick<Vault, 'get' | 'put' | 'delete' | 'metadata'>;

export function keyPurpose(provider: string): string {
  return `provider-key:${provider}`;
}

export class GuildKeyError extends Error {
  override readonly name = 'GuildKeyError';
}

export interface GuildKeys {
  /** For the router. */
  readonly resolve: KeyResolver;
  /** Stores (or replaces) a guild's key for a provider. The key never appears in errors, logs or the audit log. */
  setGuildKey(guildId: string, provider: string, key: string, actor: AuditActor): Promise<void>;
  /** True when a key was stored. */
  removeGuildKey(guildId: string, provider: string, actor: AuditActor): Promise<boolean>;
  /** When the guild's key for a provider was last set, for status displays; undefined when it has none. */
  storedAt(guildId: string, provider: string): Promise<Date | undefined>;
}

interface GuildKeysOptions {
  vault: KeyVault;
  db: Kysely<Database>;
  settings: Pick<GuildAiSettingsStore, 'get'>;
  /** Current on every call: a plugin reload can change which providers take keys. */
  secrets: () => ProviderSecrets;
  /** Providers currently enabled; a key can only be stored for one of them. */
  enabledProviders: () => readonly string[];
  clock: Clock;
  /** Default 60 s. */
  ttlMs?: number;
  /** A model-group deployment's own operator key, by the variable its `api_key_env` names. */
  deploymentKey?: (envName: string) => string | undefined;
}

/** Printable ASCII without spaces: what API keys look like, and nothing that could smuggle a header line. */
const KEY_SHAPE = /^[\x21-\x7e]{8,512}$/;

const PROVIDER_NAME = /^[a-z][a-z0-9-]{0,62}$/;

interface Cached {
  secret: Secret | undefined;
}

export function createGuildKeys(options: GuildKeysOptions): GuildKeys {
  const { vault, db, clock } = options;
  const cache = new LRUCache<string, Cached>({
    max: 10_000,
    ttl: options.ttlMs ?? 60_000,
    perf: clock,
    ttlResolution: 0,
    fetchMethod: async (cacheKey) => {
      const [guildId = '', provider = ''] = cacheKey.split('\u0000');
      return { secret: await vault.get(guildId, keyPurpose(provider)) };
    },
  });
  const cacheKeyOf = (guildId: string, provider: string) => `${guildId}\u0000${provider}`;

  const policy = createKeyResolver({
    async guildKey(provider, guildId) {
      if (!options.secrets().guildOverridable(provider)) return undefined;
      const key = cacheKeyOf(guildId, provider);
      // A key set or removed while it was being read aborts that read; the second read sees the new state.
      const cached = await cache.fetch(key).catch(() => cache.fetch(key));
      return cached?.secret?.reveal();
    },
    operatorKey: (provider) => options.secrets().operatorKey(provider),
    ...(options.deploymentKey !== undefined ? { deploymentKey: options.deploymentKey } : {}),
    mayUseOperatorKey: async (guildId) => (await options.settings.get(guildId)).allowOperatorKey,
  });

  // "No key" is passed on as an empty key: the provider plugins fall back to the
  // operator's key when a request carries none, which would hand it to a guild
  // that is not allowed to use it (servers that need no key, like Ollama, then
  // simply get no Authorization header).
  const resolve: KeyResolver = async (provider, guildId, target) => {
    const resolution = await policy(provider, guildId, target);
    return resolution.source === 'none' ? { apiKey: '', source: 'none' } : resolution;
  };

  function checkProvider(provider: string): void {
    const enabled = options.enabledProviders();
    if (!enabled.includes(provider)) {
      throw new GuildKeyError(`unknown provider "${provider.slice(0, 64)}" (enabled providers: ${enabled.join(', ') || 'none'})`);
    }
    if (!options.secrets().guildOverridable(provider)) {
      throw new GuildKeyError(`provider "${provider}" does not take a server's own API key`);
    }
  }

  return {
    resolve,

    async setGuildKey(guildId, provider, key, actor) {
      checkProvider(provider);
      const trimmed = key.trim();
      if (!KEY_SHAPE.test(trimmed)) {
        throw new GuildKeyError('that does not look like an API key: expected 8 to 512 printable characters without spaces');
      }
      await vault.put(guildId, keyPurpose(provider), trimmed, actor.actorId);
      cache.delete(cacheKeyOf(guildId, provider));
      await recordAudit(db, {
        guildId,
        actorId: actor.actorId,
        action: 'ai-config.key.set',
        details: { provider },
        correlationId: actor.correlationId,
      });
    },

    async removeGuildKey(guildId, provider, actor) {
      // A key for a provider that is no longer enabled may still be removed; the name only has to be one.
      if (!PROVIDER_NAME.test(provider)) throw new GuildKeyError(`"${provider.slice(0, 64)}" is not a provider name`);
      const removed = (await vault.delete(guildId, keyPurpose(provider))) > 0;
      cache.delete(cacheKeyOf(guildId, provider));
      await recordAudit(db, {
        guildId,
        actorId: actor.actorId,
        action: 'ai-config.key.remove',
        details: { provider, removed },
        correlationId: actor.correlationId,
      });
      return removed;
    },

    async storedAt(guildId, provider) {
      return (await vault.metadata(guildId, keyPurpose(provider)))?.updatedAt;
    },
  };
}
