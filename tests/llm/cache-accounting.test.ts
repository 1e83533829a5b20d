/**
 * Prompt-cache accounting end to end: the real LLM service and Anthropic SDK
 * against the emulator, usage rows in llm_calls with cache reads and writes
 * priced by Anthropic's rules.
 */
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/db/schema.ts';
import { start as startAnthropic, type AnthropicEmulator } from '../emulators/anthropic/server.ts';
import { countTokens } from '../emulators/llm-faults.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { createVault, ctx, newGuild, startService } from './support.ts';

const OPERATOR_KEY = 'sk-ant-operator-cache-0123456789';
const PLUGINS = `
router:
  tasks:
    summarize: [anthropic/claude-sonnet-4-6]
  retry: { max_rounds: 0, base_ms: 10, max_ms: 20 }
plugins:
  anthropic:
    config: { base_url: "\${ANTHROPIC_BASE_URL}", timeout_ms: 5000 }
  local: { enabled: false }
  pii-redactor: { enabled: false }
`;
const SYSTEM = 'Summarise the channel. Keep every decision with its owner and date. '.repeat(80);

describeEachDatabase('prompt-cache accounting', (database) => {
  let anthropic: AnthropicEmulator;
  let db: Kysely<Database>;

  beforeAll(async () => {
    anthropic = await startAnthropic({ keys: { operator: OPERATOR_KEY } });
    db = database().handle.db;
  });
  afterAll(() => anthropic.close());

  it('stores cache writes then reads per call, priced at 1.25× and 0.1× the input price', async () => {
    const t = await startService({
      db,
      vault: await createVault(db),
      env: { ANTHROPIC_API_KEY: OPERATOR_KEY, ANTHROPIC_BASE_URL: anthropic.baseUrl, LLM_USER_RATE_PER_MIN: '0', LLM_GUILD_RATE_PER_MIN: '0' },
      config: PLUGINS,
    });
    try {
      const guild = newGuild();
      const ask = (content: string) => ({ system: SYSTEM, turns: [{ role: 'user' as const, content }], maxTokens: 100 });
      const first = await t.service.router.generate(ask('part one'), ctx(guild));
      const second = await t.service.router.generate(ask('part two'), ctx(guild));
      await t.service.usage.flush();

      const cached = countTokens(SYSTEM);
      expect(first.usage.cacheWriteTokens).toBe(cached);
      expect(second.usage.cacheReadTokens).toBe(cached);
      const rows = await db
        .selectFrom('llm_calls')
        .select(['input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens', 'estimated', 'cost_usd'])
        .where('guild_id', '=', guild)
        .orderBy('id')
        .execute();
      expect(rows.map((r) => [r.cache_write_tokens, r.cache_read_tokens, r.estimated])).toEqual([
        [cached, 0, false],
        [0, cached, false],
      ]);
      // claude-sonnet-4-6: $3 input, $15 output per million tokens.
      const price = (r: (typeof rows)[number]) =>
        (r.input_tokens * 3 + r.output_tokens * 15 + r.cache_write_tokens * 3.75 + r.cache_read_tokens * 0.3) / 1e6;
      expect(Number(rows[0]!.cost_usd)).toBeCloseTo(price(rows[0]!), 6);
      expect(Number(rows[1]!.cost_usd)).toBeCloseTo(price(rows[1]!), 6);
      expect(Number(rows[1]!.cost_usd)).toBeLessThan(Number(rows[0]!.cost_usd) / 5);
    } finally {
      await t.close();
    }
  });
});
