/**
 * The real bot process answering through the Anthropic emulator: a
 * plugins.yaml that enables the anthropic plugin at the emulator's address,
 * with router retries off so that a provider fault reaches the member as it
 * happened, and the per-user rate limit off so that steps are not throttled.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start as startAnthropic, type AnthropicEmulator } from '../emulators/anthropic/server.ts';
import type { KeySet, Responder } from '../emulators/llm-faults.ts';
import { afterAll, beforeAll } from 'vitest';
import { startE2E, type E2E, type StartE2EOptions } from './harness.ts';

export interface AnthropicE2EOptions {
  /** The emulator's keys; `operator` becomes the bot's ANTHROPIC_API_KEY. */
  keys: { operator: string } & Record<string, string>;
  responder: Responder;
  /** Keep the offline `local` provider enabled too (off: an outage of Anthropic is an outage). */
  local?: boolean;
  /** Added to (and overriding) the environment set here. */
  env?: Record<string, string>;
  setup?: StartE2EOptions['setup'];
}

export interface AnthropicE2E {
  e2e: E2E;
  anthropic: AnthropicEmulator;
  /** Stops the bot and the emulators, and removes the plugins file. */
  close(): Promise<void>;
}

const pluginsYaml = (local: boolean) => `router:
  retry:
    max_rounds: 0
plugins:
  local:
    enabled: ${local}
  anthropic:
    enabled: true
    config:
      base_url: \${ANTHROPIC_BASE_URL}
`;

export async function startE2EWithAnthropic(options: AnthropicE2EOptions): Promise<AnthropicE2E> {
  const keys: KeySet = options.keys;
  const anthropic = await startAnthropic({ keys, responder: options.responder });
  const dir = mkdtempSync(join(tmpdir(), 'recap-e2e-anthropic-'));
  const cleanUp = async () => {
    await anthropic.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    writeFileSync(join(dir, 'plugins.yaml'), pluginsYaml(options.local ?? false));
    const e2e = await startE2E({
      env: {
        ANTHROPIC_API_KEY: options.keys.operator,
        ANTHROPIC_BASE_URL: anthropic.baseUrl,
        PLUGINS_CONFIG: join(dir, 'plugins.yaml'),
        LLM_USER_RATE_PER_MIN: '0',
        ...options.env,
      },
      ...(options.setup === undefined ? {} : { setup: options.setup }),
    });
    return {
      e2e,
      anthropic,
      close: async () => {
        try {
          await e2e.close();
        } finally {
          await cleanUp();
        }
      },
    };
  } catch (err) {
    await cleanUp();
    throw err;
  }
}

/**
 * For one test file: starts the bot with Anthropic before its tests and
 * closes everything after them. `ready` gets the running harness, to keep
 * what the tests use.
 */
export function startE2EWithAnthropicForFile(options: AnthropicE2EOptions, ready: (started: AnthropicE2E) => void): void {
  let started: AnthropicE2E | undefined;
  beforeAll(async () => {
    started = await startE2EWithAnthropic(options);
    ready(started);
  }, 60_000);
  afterAll(async () => {
    await started?.close();
  });
}
