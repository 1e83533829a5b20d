/**
 * The GitHub emulator on a manual clock, started for one suite: the setup the
 * prompt engine and webhook suites share. Faults scripted by a test are
 * cleared after it, so that no test inherits another's.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { ManualClock } from '../../src/resilience/clock.ts';
import { GitHubEmulator, type RunningEmulator } from '../emulators/github/server.ts';

export interface GitHubOnClock {
  readonly clock: ManualClock;
  readonly github: GitHubEmulator;
  /** The running server's address; read it in or after `beforeAll`. */
  readonly baseUrl: string;
}

/** Registers the suite's hooks; call it first in the suite, so the server is up before the suite's own `beforeAll` and closed after its `afterAll`. */
export function useGitHubOnClock(startsAt: string): GitHubOnClock {
  const clock = new ManualClock(Date.parse(startsAt));
  // A quota no suite reaches: the quota is not what these suites test.
  const github = new GitHubEmulator({ clock, quota: { anonymous: 100_000, authenticated: 100_000 } });
  let running: RunningEmulator | undefined;

  beforeAll(async () => {
    running = await github.start();
  });
  afterAll(async () => {
    await running?.close();
  });
  afterEach(() => {
    github.clearFaults();
  });

  return {
    clock,
    github,
    get baseUrl() {
      if (running === undefined) throw new Error('the GitHub emulator is not running yet (read baseUrl in beforeAll or a test)');
      return running.baseUrl;
    },
  };
}
