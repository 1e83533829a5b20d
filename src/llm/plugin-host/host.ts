/**
 * The plugin host: discovers plugin folders, reads the config, loads the
 * plugins and hands out what they provide. `reload()` builds a complete new
 * set and swaps it in one assignment, so a request sees either the old set or
 * the new one, never a mixture; the old set closes once its calls finish.
 *
 * Work that spans several awaits (a map-reduce summary, processors then the
 * provider call) should hold a `lease()`: everything it touches then comes
 * from one set, which stays open until the lease is released.
 */
import path from 'node:path';
import type { Provider } from '../provider-spec/contract.ts';
import type { Hooks, PluginLogger, PluginRole, RequestProcessor } from './types.ts';
import type { ConfigDocument } from './config-file.ts';
import { loadConfigFile } from './config-file.ts';
import { builtInConfig } from './built-in-config.ts';
import { discoverPlugins } from './discover.ts';
import type { Environment } from './env-substitution.ts';
import { loadPluginSet } from './loader.ts';
import type { ResolvedRouterConfig } from './plan.ts';
import { planPlugins } from './plan.ts';
import type { HookEntry, PluginSet, PluginStatus } from './plugin-set.ts';
import type { AdminNotices } from '../../notices/admin-notice.ts';
import { PluginConfigError } from './problems.ts';
import { settingsRefusals } from './settings-refusals.ts';
import { messageOf } from '../../log/error-message.ts';

export interface PluginHostOptions {
  /** Absolute path of the folder holding `<name>/plugin.yaml`. */
  pluginsDir: string;
  env: Environment;
  logger: PluginLogger;
  /** The config file; defaults to env PLUGINS_CONFIG, and to the built-in defaults when that is unset. */
  configPath?: string;
  /** File names in error messages are shown relative to this; default: the working directory. */
  displayRoot?: string;
  /** Default 3. */
  crashThreshold?: number;
  /** Default 10 s. */
  loadTimeoutMs?: number;
  /** Default 5 s. */
  healthTimeoutMs?: number;
  /** Handed to plugins as `ctx.notices` (host API 1.1). */
  notices?: AdminNotices | undefined;
}

/** One consistent view of the plugins, kept open until released. */
interface PluginLease {
  readonly router: ResolvedRouterConfig;
  getProvider(name: string): Provider | undefined;
  isHealthy(providerName: string): boolean | undefined;
  processors(): RequestProcessor[];
  hooks(): Hooks[];
  /** Idempotent. */
  release(): void;
}

export type ReloadResult =
  | { ok: true; statuses: PluginStatus[]; previousClosed: Promise<void> }
  | { ok: false; error: string; problems: PluginConfigError['problems'] };

export class PluginHost {
  #current: PluginSet;
  #reloading: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(
    private readonly options: Required<Omit<PluginHostOptions, 'configPath' | 'notices'>> & {
      configPath: string | undefined;
      notices: AdminNotices | undefined;
    },
    initial: PluginSet,
  ) {
    this.#current = initial;
  }

  /**
   * Loads everything; throws PluginConfigError when the config or a setting is
   * invalid, including settings an enabled plugin's factory refuses (unless the
   * config marks it `optional: true`). Other plugin failures do not throw.
   */
  static async start(options: PluginHostOptions): Promise<PluginHost> {
    const resolved = {
      pluginsDir: path.resolve(options.pluginsDir),
      env: options.env,
      logger: options.logger,
      configPath: options.configPath ?? (options.env.PLUGINS_CONFIG || undefined),
      displayRoot: options.displayRoot ?? process.cwd(),
      crashThreshold: options.crashThreshold ?? 3,
      loadTimeoutMs: options.loadTimeoutMs ?? 10_000,
      healthTimeoutMs: options.healthTimeoutMs ?? 5_000,
      notices: options.notices,
    };
    const initial = await buildSet(resolved);
    return new PluginHost(resolved, initial);
  }

  get router(): ResolvedRouterConfig {
    return this.#current.router;
  }

  getProvider(name: string): Provider | undefined {
    return this.#current.getProvider(name);
  }

  processors(): RequestProcessor[] {
    return this.#current.processors();
  }

  hooks(): Hooks[] {
    return this.#current.hooks();
  }

  /** Active hooks with their plugin's name, lowest priority first. */
  hookEntries(): HookEntry[] {
    return this.#current.hookEntries();
  }

  /** Whether the named processor's plugin claims `role` in its manifest (see PLUGIN_ROLES). */
  processorHasRole(processorName: string, role: PluginRole): boolean {
    return this.#current.processorHasRole(processorName, role);
  }

  /** Last known health of a provider (from the latest `statuses()`); undefined when unknown. */
  isHealthy(providerName: string): boolean | undefined {
    return this.#current.isHealthy(providerName);
  }

  statuses(): Promise<PluginStatus[]> {
    return this.#current.statuses();
  }

  lease(): PluginLease {
    const set = this.#current;
    set.enter();
    let released = false;
    return {
      router: set.router,
      getProvider: (name) => set.getProvider(name),
      isHealthy: (name) => set.isHealthy(name),
      processors: () => set.processors(),
      hooks: () => set.hooks(),
      release: () => {
        if (released) return;
        released = true;
        set.leave();
      },
    };
  }

  /**
   * Re-reads the config (and the manifests) and swaps in a new set. An invalid
   * config, or settings an enabled plugin refuses, keeps the current set and
   * is reported in the result. Reloads run
   * one at a time. Module code is not re-imported: Node caches ES modules.
   */
  reload(): Promise<ReloadResult> {
    const run = this.#reloading.then(() => this.#reloadNow());
    this.#reloading = run.catch(() => undefined);
    return run;
  }

  async #reloadNow(): Promise<ReloadResult> {
    if (this.#closed) return { ok: false, error: 'the plugin host is closed', problems: [] };
    let next: PluginSet;
    try {
      next = await buildSet(this.options);
    } catch (error) {
      const problems = error instanceof PluginConfigError ? error.problems : [];
      const message = messageOf(error);
      this.options.logger.error({ problems: problems.length }, `plugin reload rejected, keeping the current plugins:\n${message}`);
      return { ok: false, error: message, problems };
    }
    const previous = this.#current;
    this.#current = next;
    const previousClosed = previous.retire();
    this.options.logger.info({ config: next.configFile }, 'plugins reloaded');
    return { ok: true, statuses: await next.statuses(), previousClosed };
  }

  /** Closes every instance now, in flight or not (process shutdown). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#reloading;
    await this.#current.closeNow();
  }
}

async function buildSet(options: {
  pluginsDir: string;
  env: Environment;
  logger: PluginLogger;
  configPath: string | undefined;
  displayRoot: string;
  crashThreshold: number;
  loadTimeoutMs: number;
  healthTimeoutMs: number;
  notices: AdminNotices | undefined;
}): Promise<PluginSet> {
  const discovered = await discoverPlugins({ pluginsDir: options.pluginsDir, displayRoot: options.displayRoot });
  const doc: ConfigDocument = options.configPath
    ? await loadConfigFile(path.resolve(options.configPath), options.env, options.displayRoot)
    : builtInConfig(discovered, options.env);
  const plan = planPlugins(discovered, doc, options.env);
  const set = await loadPluginSet(plan, options);
  const refused = settingsRefusals(set, doc, options.logger);
  if (refused.length > 0) {
    await set.closeNow();
    throw new PluginConfigError(refused);
  }
  return set;
}
