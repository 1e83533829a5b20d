/**
 * Model groups from the plugins config, end to end: the real LLM service
 * reads `router.groups` and `api_key_env`, and the Anthropic SDK calls the
 * emulator with each deployment's own key.
 */
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/db/schema.ts';
import { start as startAnthropic, type AnthropicEmulator } from '../emulators/anthropic/server.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { ask, createVault, ctx, startService } from './support.ts';

const FIRST = 'sk-ant-first-account-0123456789';
const SECOND = 'sk-ant-second-account-0123456789';
const PLUGINS = `
router:
  groups:
    sonnet:
      - { target: anthropic/claude-sonnet-4-6, api_key_env: ANTHROPIC_KEY_FIRST, weight: 1 }
      - { target: anthropic/claude-sonnet-4-6, api_key_env: ANTHROPIC_KEY_SECOND, weight: 3 }
  tasks:
    summarize: [sonnet]
  strategy: { summarize: ordered }
  fallback_on: [429, 500, 503, 529]
  retry: { max_rounds: 0, base_ms: 10, max_ms: 20 }
plugins:
  anthropic:
    config: { base_url: "\${ANTHROPIC_BASE_URL}", timeout_ms: 5000 }
  local: { enabled: false }
  pii-redactor: { enabled: false }
`;

describeEachDatabase('model groups through the service', (database) => {
  let emu: AnthropicEmulator;
  let db: Kysely<Database>;

  beforeAll(async () => {
    emu = await startAnthropic({ keys: { first: FIRST, second: SECOND } });
    db = database().handle.db;
  });
  afterAll(() => emu.close());

  it('calls the heavier deployment with its own key, and its sibling with the other key when it is rate-limited', async () => {
    const t = await startService({
      db,
      vault: await createVault(db),
      env: {
        ANTHROPIC_API_KEY: 'sk-ant-provider-wide-unused-0123',
        ANTHROPIC_KEY_FIRST: FIRST,
        ANTHROPIC_KEY_SECOND: SECOND,
        ANTHROPIC_BASE_URL: emu.baseUrl,
        LLM_USER_RATE_PER_MIN: '0',
        LLM_GUILD_RATE_PER_MIN: '0',
      },
      config: PLUGINS,
    });
    try {
      // Calls without a guild spend the operator's keys, here the deployments' own.
      const before = emu.completions().length;
      // The test service draws 0.5 every time, so the weight-3 deployment always comes first.
      await t.service.router.generate(ask('first question'), ctx(undefined));
      emu.faults.enqueue({ type: 'rate_limited', retryAfterSeconds: 30 });
      const second = await t.service.router.generate(ask('second question'), ctx(undefined));
      expect(emu.completions().slice(before).map((r) => r.keyLabel)).toEqual(['second', 'second', 'first']);
      expect(second.attempts.map((a) => [a.status, a.reason])).toEqual([
        ['failed', 'rate_limited'],
        ['ok', undefined],
      ]);
      expect(t.service.router.circuits().map((c) => c.target).sort()).toEqual([
        'anthropic/claude-sonnet-4-6#ANTHROPIC_KEY_FIRST',
        'anthropic/claude-sonnet-4-6#ANTHROPIC_KEY_SECOND',
      ]);
      // A 400 is not in fallback_on: the call ends there instead of trying the sibling.
      emu.faults.enqueue({ type: 'bad_request' });
      const calls = emu.completions().length;
      await expect(t.service.router.generate(ask('third question'), ctx(undefined))).rejects.toMatchObject({ kind: 'bad_request' });
      expect(emu.completions().length).toBe(calls + 1);
    } finally {
      await t.close();
    }
  });
});
