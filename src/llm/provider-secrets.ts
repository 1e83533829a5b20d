/**
 * Which credential belongs to which provider. A provider plugin declares its
 * key in its manifest (`secrets:` with an `env` variable and
 * `guild_overridable`), and the name router targets use may differ from the
 * plugin's (openai-compatible configured as "ollama"), so the map is worked
 * out the way the plugin host plans its plugins: from the manifests and the
 * plugins config, without loading anything or touching the network.
 */
import path from 'node:path';
import { builtInConfig } from './plugin-host/built-in-config.ts';
import { loadConfigFile } from './plugin-host/config-file.ts';
import { discoverPlugins } from './plugin-host/discover.ts';
import type { Environment } from './plugin-host/env-substitution.ts';
import { planPlugins, providerNameOf } from './plugin-host/plan.ts';

export interface ProviderSecret {
  /** The environment variable holding the operator's key, when the plugin declares one. */
  env?: string;
  /** Whether a guild may store its own key for this provider. */
  guildOverridable: boolean;
}

export interface ProviderSecrets {
  /** By provider name (the name router targets use); providers without a key are absent. */
  readonly byProvider: ReadonlyMap<string, ProviderSecret>;
  /** The operator's key for a provider, read from the environment now; undefined when unset or empty. */
  operatorKey(provider: string): string | undefined;
  guildOverridable(provider: string): boolean;
}

interface ProviderSecretsOptions {
  pluginsDir: string;
  env: Environment;
  /** As given to the plugin host; defaults to env PLUGINS_CONFIG. */
  configPath?: string;
  displayRoot?: string;
}

/** Throws PluginConfigError when the config is invalid (the host refuses it the same way). */
export async function readProviderSecrets(options: ProviderSecretsOptions): Promise<ProviderSecrets> {
  const { env } = options;
  const displayRoot = options.displayRoot ?? process.cwd();
  const configPath = options.configPath ?? (env.PLUGINS_CONFIG || undefined);
  const discovered = await discoverPlugins({ pluginsDir: path.resolve(options.pluginsDir), displayRoot });
  const doc = configPath ? await loadConfigFile(path.resolve(configPath), env, displayRoot) : builtInConfig(discovered, env);
  const plan = planPlugins(discovered, doc, env);

  const byProvider = new Map<string, ProviderSecret>();
  for (const planned of plan.plugins) {
    const manifest = planned.discovered.manifest;
    if (!planned.enabled || manifest?.kind !== 'provider') continue;
    // The provider's API key is the secret a guild may override; failing that, its only secret.
    const secret = manifest.secrets.find((s) => s.guild_overridable === true) ?? (manifest.secrets.length === 1 ? manifest.secrets[0] : undefined);
    if (secret === undefined) continue;
    byProvider.set(providerNameOf(planned), {
      ...(secret.env !== undefined ? { env: secret.env } : {}),
      guildOverridable: secret.guild_overridable === true,
    });
  }
  return {
    byProvider,
    operatorKey(provider) {
      const name = byProvider.get(provider)?.env;
      const value = name === undefined ? undefined : env[name];
      return value === undefined || value === '' ? undefined : value;
    },
    guildOverridable: (provider) => byProvider.get(provider)?.guildOverridable === true,
  };
}
