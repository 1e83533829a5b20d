/**
 * One generation of loaded plugins. The host swaps whole sets on reload; a
 * set that has been replaced ("retired") keeps serving the calls and leases
 * that started on it and closes its instances once the last one ends.
 */
import type { Provider } from '../provider-spec/contract.ts';
import type { Hooks, PluginInstance, PluginKind, PluginLogger, PluginManifest, PluginRole, RequestProcessor } from './types.ts';
import type { PluginLifecycle, PluginState } from './lifecycle.ts';
import type { ResolvedRouterConfig } from './plan.ts';
import type { PluginSettingsError } from '../provider-spec/model-config.ts';

export interface LoadedPlugin {
  name: string;
  manifest?: PluginManifest;
  lifecycle: PluginLifecycle;
  instance?: PluginInstance;
  /** The guarded provider, for provider plugins that loaded. */
  provider?: Provider;
  /** Set when the plugin's factory refused its settings; the host then refuses the whole config. */
  settingsError?: PluginSettingsError;
}

/** A hooks plugin's hooks and its name. */
export interface HookEntry {
  plugin: string;
  hooks: Hooks;
}

export interface PluginStatus {
  name: string;
  version: string | null;
  kind: PluginKind | null;
  /** For provider plugins that loaded: the name router targets use. */
  provider?: string;
  state: PluginState;
  reason?: string | undefined;
  health: { ok: boolean; detail?: string };
}

export class PluginSet {
  #inFlight = 0;
  #retired = false;
  #closed = false;
  #whenClosed: Promise<void> | undefined;
  #resolveClosed: (() => void) | undefined;
  readonly #lastHealth = new Map<string, boolean>();

  constructor(
    /** In load order: dependencies before dependents. */
    readonly plugins: readonly LoadedPlugin[],
    readonly router: ResolvedRouterConfig,
    readonly configFile: string,
    private readonly logger: PluginLogger,
  ) {}

  get closed(): boolean {
    return this.#closed;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  enter(): void {
    this.#inFlight += 1;
  }

  leave(): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
    if (this.#retired && this.#inFlight === 0) void this.#closeInstances();
  }

  /** Stops handing this set out; its instances close as soon as nothing is in flight. Resolves once closed. */
  retire(): Promise<void> {
    if (!this.#whenClosed) {
      this.#retired = true;
      this.#whenClosed = new Promise<void>((resolve) => {
        this.#resolveClosed = resolve;
      });
      if (this.#inFlight === 0) void this.#closeInstances();
    }
    return this.#whenClosed;
  }

  /** By provider name (the name router targets use), which is usually the plugin's name. */
  getProvider(name: string): Provider | undefined {
    return this.plugins.find((plugin) => plugin.lifecycle.isActive && plugin.provider?.name === name)?.provider;
  }

  /** The health seen by the last `statuses()` call; undefined when never checked. */
  isHealthy(providerName: string): boolean | undefined {
    return this.#lastHealth.get(providerName);
  }

  processors(): RequestProcessor[] {
    return this.plugins.flatMap((plugin) =>
      plugin.lifecycle.isActive && plugin.instance?.kind === 'processor' ? [plugin.instance.processor] : [],
    );
  }

  /** Whether the active processor of that name comes from a plugin whose manifest claims `role`. */
  processorHasRole(processorName: string, role: PluginRole): boolean {
    return this.plugins.some(
      (plugin) =>
        plugin.lifecycle.isActive &&
        plugin.instance?.kind === 'processor' &&
        plugin.instance.processor.name === processorName &&
        plugin.manifest?.roles.includes(role) === true,
    );
  }

  /** Active hooks, lowest priority first; equal priorities keep load order. */
  hooks(): Hooks[] {
    return this.hookEntries().map(({ hooks }) => hooks);
  }

  /** The same, each with the name of the plugin it comes from (for logs and metric labels). */
  hookEntries(): HookEntry[] {
    const entries = this.plugins.flatMap((plugin) =>
      plugin.lifecycle.isActive && plugin.instance?.kind === 'hooks' ? [{ plugin: plugin.name, hooks: plugin.instance.hooks }] : [],
    );
    return entries
      .map((entry, index) => ({ entry, index }))
      .sort((a, b) => (a.entry.hooks.priority ?? 0) - (b.entry.hooks.priority ?? 0) || a.index - b.index)
      .map(({ entry }) => entry);
  }

  async statuses(): Promise<PluginStatus[]> {
    return Promise.all(
      [...this.plugins]
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .map(async (plugin) => {
          const { state, reason } = plugin.lifecycle;
          let health: PluginStatus['health'];
          if (state !== 'active') health = { ok: false, detail: reason ? `${state}: ${reason}` : state };
          else if (plugin.provider) {
            health = await plugin.provider.health();
            this.#lastHealth.set(plugin.provider.name, health.ok);
          } else health = { ok: true };
          return {
            name: plugin.name,
            version: plugin.manifest?.version ?? null,
            kind: plugin.manifest?.kind ?? null,
            ...(plugin.provider ? { provider: plugin.provider.name } : {}),
            state,
            reason,
            health,
          };
        }),
    );
  }

  async #closeInstances(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Dependents first, mirroring load order.
    for (const plugin of [...this.plugins].reverse()) {
      const close = plugin.instance?.close;
      if (!close) continue;
      try {
        await close.call(plugin.instance);
      } catch (error) {
        this.logger.warn({ plugin: plugin.name, err: error }, 'plugin close failed');
      }
    }
    this.#resolveClosed?.();
  }

  /** Closes now regardless of calls in flight (process shutdown). */
  async closeNow(): Promise<void> {
    const closed = this.retire();
    await this.#closeInstances();
    await closed;
  }
}
