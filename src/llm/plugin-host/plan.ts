/**
 * Start-up validation: the config file checked against the plugins actually
 * installed. Everything an operator got wrong is collected and thrown at
 * once (unknown plugins, unknown or mistyped settings, router targets naming
 * plugins that cannot answer), so one restart shows every mistake.
 */
import type { DiscoveredPlugin } from './discover.ts';
import type { ConfigDocument, RoutedTask, RouterConfig } from './config-file.ts';
import { ROUTED_TASKS, isGroupName, parseTarget } from './config-file.ts';
import { defaultTargets, enabledByDefault, type RoutableProvider } from './built-in-config.ts';
import type { Environment } from './env-substitution.ts';
import type { ConfigProblem } from './problems.ts';
import { PluginConfigError } from './problems.ts';
import { resolveSettings } from './settings.ts';

export interface PlannedPlugin {
  discovered: DiscoveredPlugin;
  enabled: boolean;
  /** Resolved settings (defaults applied); empty when disabled or the manifest is broken. */
  settings: Record<string, unknown>;
}

export type ResolvedRouterConfig = Omit<RouterConfig, 'tasks'> & { tasks: Record<RoutedTask, string[]> };

export interface LoadPlan {
  configFile: string;
  router: ResolvedRouterConfig;
  plugins: PlannedPlugin[];
}

export function planPlugins(discovered: readonly DiscoveredPlugin[], doc: ConfigDocument, env: Environment): LoadPlan {
  const problems: ConfigProblem[] = [];
  const at = (path: readonly PropertyKey[], which: 'key' | 'value' = 'value') => ({ file: doc.file, ...doc.locate(path, which) });
  const byName = new Map(discovered.map((plugin) => [plugin.name, plugin]));
  const known = [...byName.keys()].sort().join(', ') || '(none)';

  for (const name of Object.keys(doc.config.plugins)) {
    if (!byName.has(name)) {
      problems.push({ ...at(['plugins', name], 'key'), message: `unknown plugin "${name}" (known plugins: ${known})` });
    }
  }

  const plugins: PlannedPlugin[] = discovered.map((plugin) => {
    const entry = doc.config.plugins[plugin.name];
    const enabled = entry?.enabled ?? enabledByDefault(plugin.manifest, env);
    if (!enabled || !plugin.manifest) return { discovered: plugin, enabled, settings: {} };
    const resolved = resolveSettings(plugin.manifest, entry?.config ?? {});
    for (const problem of resolved.problems) {
      const path = problem.setting === undefined ? ['plugins', plugin.name, 'config'] : ['plugins', plugin.name, 'config', problem.setting];
      problems.push({ ...at(path, problem.setting === undefined ? 'value' : 'key'), message: problem.message });
    }
    return { discovered: plugin, enabled, settings: resolved.settings };
  });

  const enabledProviders: RoutableProvider[] = plugins.flatMap((plugin) => {
    const manifest = plugin.discovered.manifest;
    return plugin.enabled && manifest?.kind === 'provider' ? [{ manifest, providerName: providerNameOf(plugin) }] : [];
  });
  const tasks = {} as Record<RoutedTask, string[]>;
  for (const task of ROUTED_TASKS) {
    const configured = doc.config.router.tasks[task];
    tasks[task] = configured ?? defaultTargets(task, enabledProviders, env);
    configured?.forEach((target, index) => {
      if (isGroupName(target)) return; // checked with the groups below
      const reason = whyTargetUnusable(parseTarget(target).provider, plugins);
      if (reason) problems.push({ ...at(['router', 'tasks', task, index]), message: `router target "${target}" for ${task}: ${reason}` });
    });
  }

  for (const [group, deployments] of Object.entries(doc.config.router.groups)) {
    deployments.forEach((deployment, index) => {
      const here = ['router', 'groups', group, index];
      const reason = whyTargetUnusable(parseTarget(deployment.target).provider, plugins);
      if (reason) problems.push({ ...at([...here, 'target']), message: `group "${group}" deployment "${deployment.target}": ${reason}` });
      const keyEnv = deployment.api_key_env;
      if (keyEnv !== undefined && !env[keyEnv]) {
        problems.push({
          ...at([...here, 'api_key_env']),
          message: `group "${group}" deployment "${deployment.target}": environment variable ${keyEnv} (its API key) is not set`,
        });
      }
    });
  }

  if (problems.length > 0) throw new PluginConfigError(problems);
  return { configFile: doc.file, router: { ...doc.config.router, tasks }, plugins };
}

/**
 * The name router targets use for a provider plugin: its own name, unless its
 * manifest has a string setting `name` (one plugin folder serving, say,
 * "ollama"), in which case that setting's value.
 */
export function providerNameOf(plugin: PlannedPlugin): string {
  const configured = plugin.discovered.manifest?.config.name?.type === 'string' ? plugin.settings.name : undefined;
  return typeof configured === 'string' && configured !== '' ? configured : plugin.discovered.name;
}

function whyTargetUnusable(providerName: string, plugins: readonly PlannedPlugin[]): string | undefined {
  const providers = plugins.filter((plugin) => plugin.enabled && plugin.discovered.manifest?.kind === 'provider');
  if (providers.some((plugin) => providerNameOf(plugin) === providerName)) return undefined;
  const plugin = plugins.find((candidate) => candidate.discovered.name === providerName);
  if (!plugin) {
    return `no provider named "${providerName}" is enabled (enabled providers: ${providers.map(providerNameOf).sort().join(', ') || 'none'})`;
  }
  const kind = plugin.discovered.manifest?.kind;
  if (kind !== undefined && kind !== 'provider') return `plugin "${providerName}" is a ${kind}, not a provider`;
  if (!plugin.enabled) return `plugin "${providerName}" is not enabled`;
  // A broken manifest shows up in the plugin statuses; it must not stop start-up.
  if (kind === undefined) return undefined;
  return `plugin "${providerName}" serves as provider "${providerNameOf(plugin)}"; name that in the target`;
}
