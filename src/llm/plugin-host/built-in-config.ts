/**
 * What runs, and how, where the plugins config says nothing: read from the
 * plugins' own manifests (`enabled_by_default`, `enabled_by_env`,
 * `env_settings`, `default_route`; see plugins/README.md), so the host names
 * no plugin and a new one needs no change here.
 */
import type { DiscoveredPlugin } from './discover.ts';
import type { ConfigDocument } from './config-file.ts';
import { BUILT_IN_CONFIG_FILE, pluginsConfigSchema } from './config-file.ts';
import type { Environment } from './env-substitution.ts';
import { PluginConfigError, type ConfigProblem } from './problems.ts';
import type { RoutedTask } from './tasks.ts';
import type { PluginManifest } from './types.ts';

/** Whether a plugin runs when the config file does not mention it (or there is no file). */
export function enabledByDefault(manifest: PluginManifest | undefined, env: Environment): boolean {
  if (manifest === undefined) return false;
  return manifest.enabled_by_default || manifest.enabled_by_env.some((name) => isSet(env[name]));
}

/**
 * The config used when PLUGINS_CONFIG is unset: router defaults, and for
 * each plugin whose `env_settings` variables are set, those settings (so
 * `OPENAI_BASE_URL` + `OPENAI_MODEL` alone reach, say, a local Ollama).
 * Whether such a plugin runs stays `enabledByDefault`'s call.
 * Throws PluginConfigError when a variable cannot fill its setting's type.
 */
export function builtInConfig(discovered: readonly DiscoveredPlugin[], env: Environment): ConfigDocument {
  const plugins: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  for (const { manifest } of discovered) {
    if (manifest === undefined) continue;
    const config = envSettings(manifest, env, problems);
    if (config !== undefined) plugins[manifest.name] = { enabled: enabledByDefault(manifest, env), config };
  }
  if (problems.length > 0) throw new PluginConfigError(problems);
  return { file: BUILT_IN_CONFIG_FILE, config: pluginsConfigSchema.parse({ plugins }), locate: () => undefined };
}

/** The settings a manifest's `env_settings` fill from the environment; undefined when none of its variables is set. */
export function envSettings(manifest: PluginManifest, env: Environment, problems: ConfigProblem[] = []): Record<string, unknown> | undefined {
  const config: Record<string, unknown> = {};
  for (const [setting, variable] of Object.entries(manifest.env_settings)) {
    const text = env[variable]?.trim();
    if (text === undefined || text === '') continue;
    const value = fromText(text, manifest.config[setting]?.type);
    if (value === undefined) {
      // The value itself is not echoed: a variable may hold something private.
      problems.push({
        file: BUILT_IN_CONFIG_FILE,
        message: `environment variable ${variable} (setting "${setting}" of plugin "${manifest.name}") must be a ${manifest.config[setting]?.type ?? 'string'}`,
      });
      continue;
    }
    config[setting] = value;
  }
  return Object.keys(config).length > 0 ? config : undefined;
}

function fromText(text: string, type: string | undefined): unknown {
  switch (type) {
    case 'number': {
      const n = Number(text);
      return Number.isFinite(n) ? n : undefined;
    }
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : undefined;
    default:
      return text;
  }
}

export interface RoutableProvider {
  manifest: PluginManifest;
  /** The name router targets use (see `providerNameOf`). */
  providerName: string;
}

/**
 * The fallback order for a task the config does not route: every enabled
 * provider with a `default_route` naming a model for the task, by rank
 * (lower first, ties by name), each with its `model_env` override or its
 * default model.
 */
export function defaultTargets(task: RoutedTask, providers: readonly RoutableProvider[], env: Environment): string[] {
  return providers
    .flatMap(({ manifest, providerName }) => (manifest.default_route === undefined ? [] : [{ route: manifest.default_route, providerName, name: manifest.name }]))
    .sort((a, b) => a.route.rank - b.route.rank || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap(({ route, providerName }) => {
      const model = (route.model_env === undefined ? undefined : env[route.model_env]) || route.models[task];
      return model === undefined ? [] : [`${providerName}/${model}`];
    });
}

function isSet(value: string | undefined): boolean {
  return value !== undefined && value !== '';
}
