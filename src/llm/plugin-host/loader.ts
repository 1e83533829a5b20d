/**
 * Builds a plugin set from a validated plan: dependency order, import, the
 * factory call, contract checks. Each plugin is isolated: one that fails (or
 * whose dependency failed) is marked `error` with the reason and the rest
 * load normally.
 */
import type { Environment } from './env-substitution.ts';
import type { PluginContext, PluginLogger, PluginManifest } from './types.ts';
import { orderByDependencies } from './dependency-order.ts';
import { checkInstance, importFactory } from './entry-module.ts';
import { describeError } from '../../log/error-message.ts';
import { guardProvider } from './guarded-provider.ts';
import { PluginLifecycle } from './lifecycle.ts';
import type { LoadPlan } from './plan.ts';
import type { LoadedPlugin } from './plugin-set.ts';
import { PluginSet } from './plugin-set.ts';
import semver from 'semver';
import { formatProblem } from './problems.ts';
import { hostApiMismatch } from './host-api.ts';
import { PluginSettingsError } from '../provider-spec/model-config.ts';
import type { AdminNotices } from '../../notices/admin-notice.ts';

interface LoaderOptions {
  env: Environment;
  logger: PluginLogger;
  /** Unexpected (non-ProviderError) exceptions in a row before a provider plugin is taken out of service. */
  crashThreshold: number;
  /** A factory that has not finished by then is marked `error`; start-up must not hang on one plugin. */
  loadTimeoutMs: number;
  healthTimeoutMs: number;
  /** Handed to every plugin as `ctx.notices`. */
  notices?: AdminNotices | undefined;
}

export async function loadPluginSet(plan: LoadPlan, options: LoaderOptions): Promise<PluginSet> {
  const { logger } = options;
  const onChange = (name: string, state: string, reason: string | undefined) => {
    if (state === 'error') logger.error({ plugin: name, reason }, 'plugin failed');
    else logger.debug({ plugin: name, state, ...(reason ? { reason } : {}) }, 'plugin state changed');
  };

  const loaded = new Map<string, LoadedPlugin>();
  for (const { discovered, enabled } of plan.plugins) {
    const lifecycle = new PluginLifecycle(discovered.name, onChange);
    const plugin: LoadedPlugin = { name: discovered.name, lifecycle, ...(discovered.manifest ? { manifest: discovered.manifest } : {}) };
    loaded.set(discovered.name, plugin);
    if (!discovered.manifest) lifecycle.fail(`invalid manifest: ${discovered.problems.map(formatProblem).join('; ')}`);
    else if (!enabled) lifecycle.disable(`not enabled in ${plan.configFile}`);
  }

  const candidates = plan.plugins.filter((plugin) => plugin.enabled && plugin.discovered.manifest);
  const { order, failures } = orderByDependencies(
    candidates.map(({ discovered }) => ({ name: discovered.name, requires: (discovered.manifest?.requires ?? []).map((r) => r.plugin) })),
    (name) => {
      const plugin = loaded.get(name);
      if (!plugin) return 'is not installed';
      if (plugin.lifecycle.state === 'disabled') return `is not enabled in ${plan.configFile}`;
      return 'has an invalid manifest';
    },
  );

  const ordered: LoadedPlugin[] = [];
  const placed = new Set<string>();
  for (const name of order) {
    const plugin = loaded.get(name);
    const planned = candidates.find((candidate) => candidate.discovered.name === name);
    if (!plugin || !planned || !plugin.manifest) continue;
    ordered.push(plugin);
    placed.add(name);
    const failure = failures.get(name);
    if (failure) {
      plugin.lifecycle.fail(failure);
      continue;
    }
    const incompatible = hostApiMismatch(name, plugin.manifest.host) ?? versionMismatch(plugin.manifest, loaded);
    if (incompatible !== undefined) {
      plugin.lifecycle.fail(incompatible);
      continue;
    }
    const brokenDependency = plugin.manifest.requires.map((r) => r.plugin).find((dependency) => !loaded.get(dependency)?.lifecycle.isActive);
    if (brokenDependency !== undefined) {
      const dependency = loaded.get(brokenDependency);
      plugin.lifecycle.fail(`dependency "${brokenDependency}" is not active${dependency?.lifecycle.reason ? ` (${dependency.lifecycle.reason})` : ''}`);
      continue;
    }
    await activate(plugin, plugin.manifest, planned.discovered.dir, planned.settings, options);
  }
  // Disabled plugins and broken manifests never enter the order; they still show in statuses.
  for (const plugin of loaded.values()) if (!placed.has(plugin.name)) ordered.push(plugin);

  const set = new PluginSet(ordered, plan.router, plan.configFile, logger);
  const providerOwners = new Map<string, string>();
  for (const plugin of ordered) {
    const instance = plugin.instance;
    if (instance?.kind !== 'provider' || !plugin.lifecycle.isActive) continue;
    const owner = providerOwners.get(instance.provider.name);
    if (owner !== undefined) {
      plugin.lifecycle.fail(`provider name "${instance.provider.name}" is already used by plugin "${owner}"`);
      continue;
    }
    providerOwners.set(instance.provider.name, plugin.name);
    plugin.provider = guardProvider(instance.provider, {
      crashThreshold: options.crashThreshold,
      healthTimeoutMs: options.healthTimeoutMs,
      track: set,
      unavailable: () => {
        if (set.closed) return 'its plugin set was closed by a reload';
        return plugin.lifecycle.isActive ? undefined : (plugin.lifecycle.reason ?? plugin.lifecycle.state);
      },
      onCrashLoop: (reason) => plugin.lifecycle.fail(reason),
    });
  }
  return set;
}

/** Why an installed dependency's version is outside the range the manifest asks for; undefined when all fit. */
function versionMismatch(manifest: PluginManifest, loaded: ReadonlyMap<string, LoadedPlugin>): string | undefined {
  const reasons = manifest.requires.flatMap(({ plugin, version }) => {
    const installed = loaded.get(plugin)?.manifest?.version;
    if (installed === undefined || semver.satisfies(installed, version)) return [];
    return [`requires "${plugin}" version "${version}", but ${plugin} ${installed} is installed`];
  });
  return reasons.length > 0 ? reasons.join('; ') : undefined;
}

async function activate(
  plugin: LoadedPlugin,
  manifest: PluginManifest,
  dir: string,
  settings: Record<string, unknown>,
  options: LoaderOptions,
): Promise<void> {
  const context: PluginContext = {
    manifest,
    config: settings,
    secret: (name) => {
      const spec = manifest.secrets.find((candidate) => candidate.name === name);
      const value = spec?.env === undefined ? undefined : options.env[spec.env];
      return value === '' ? undefined : value;
    },
    logger: scopedLogger(options.logger, manifest.name),
    ...(options.notices === undefined ? {} : { notices: options.notices }),
  };
  try {
    const factory = await importFactory(dir, manifest);
    const pending = Promise.resolve().then(() => factory(context));
    const value = await withTimeout(pending, options.loadTimeoutMs, `factory did not finish within ${options.loadTimeoutMs} ms`).catch(
      (error: unknown) => {
        // A factory that finishes after we gave up must not leave an open instance behind.
        pending.then(closeQuietly, () => {});
        throw error;
      },
    );
    try {
      plugin.instance = checkInstance(value, manifest);
    } catch (error) {
      await closeQuietly(value);
      throw error;
    }
    plugin.lifecycle.activate();
  } catch (error) {
    if (error instanceof PluginSettingsError) plugin.settingsError = error;
    plugin.lifecycle.fail(`failed to load: ${describeError(error)}`);
  }
}

function scopedLogger(logger: PluginLogger, plugin: string): PluginLogger {
  return {
    debug: (obj, msg) => logger.debug({ plugin, ...obj }, msg),
    info: (obj, msg) => logger.info({ plugin, ...obj }, msg),
    warn: (obj, msg) => logger.warn({ plugin, ...obj }, msg),
    error: (obj, msg) => logger.error({ plugin, ...obj }, msg),
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function closeQuietly(value: unknown): Promise<void> {
  const close = (value as { close?: unknown } | null)?.close;
  if (typeof close === 'function') {
    try {
      await (close as () => unknown).call(value);
    } catch {
      // The instance is being discarded as malformed; its close failing changes nothing.
    }
  }
}
