/** Lets tests await a condition on recorded state instead of sleeping. */
export class ChangeFeed {
  readonly #listeners = new Set<() => void>();

  /** Call after every recorded change; waiters re-check their condition. */
  notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  /**
   * Resolves with the first truthy result of `probe`, checked now and after each change; rejects
   * after `timeoutMs` with `describe()` so a failing test says what it was waiting for.
   */
  waitFor<T>(probe: () => T | undefined | null | false, timeoutMs: number, describe: () => string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): boolean => {
        try {
          const value = probe();
          if (value === undefined || value === null || value === false) return false;
          finish();
          resolve(value);
        } catch (error) {
          finish();
          reject(error instanceof Error ? error : new Error(String(error)));
        }
        return true;
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${describe()}`));
      }, timeoutMs);
      const listener = (): void => void check();
      const finish = (): void => {
        clearTimeout(timer);
        this.#listeners.delete(listener);
      };
      this.#listeners.add(listener);
      check();
    });
  }
}
