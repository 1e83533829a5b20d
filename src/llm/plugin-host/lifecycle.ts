/**
 * One plugin's state in one generation of the plugin set:
 *
 *   loaded ──► active ──► error | disabled
 *      └──────────────► error | disabled
 *
 * `loaded` means "found by the loader, not yet running". `error` and
 * `disabled` are final for this generation; a reload starts a fresh one.
 */
export type PluginState = 'loaded' | 'active' | 'error' | 'disabled';

const NEXT: Readonly<Record<PluginState, readonly PluginState[]>> = {
  loaded: ['active', 'error', 'disabled'],
  active: ['error', 'disabled'],
  error: [],
  disabled: [],
};

export class PluginLifecycle {
  #state: PluginState = 'loaded';
  #reason: string | undefined;

  constructor(
    readonly name: string,
    private readonly onChange: (name: string, state: PluginState, reason: string | undefined) => void = () => {},
  ) {}

  get state(): PluginState {
    return this.#state;
  }

  /** Why the plugin is in `error` or `disabled`. */
  get reason(): string | undefined {
    return this.#reason;
  }

  get isActive(): boolean {
    return this.#state === 'active';
  }

  activate(): boolean {
    return this.move('active', undefined);
  }

  /** The first failure wins: later ones are usually consequences of it. */
  fail(reason: string): boolean {
    return this.move('error', reason);
  }

  disable(reason: string): boolean {
    return this.move('disabled', reason);
  }

  private move(state: PluginState, reason: string | undefined): boolean {
    if (!NEXT[this.#state].includes(state)) return false;
    this.#state = state;
    this.#reason = reason;
    this.onChange(this.name, state, reason);
    return true;
  }
}
