/**
 * Budgets that hold across processes: reservations in the database (real
 * Postgres and PGlite), leases that lapse, threshold marks posted once, a
 * race of child processes on real Postgres, and in the LLM service against
 * the emulators: guild keys never held back, notices, status, and the
 * operator's bounds on a prompt's choice of model.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../../src/db/schema.ts';
import { createBudgetLedger, utcDay } from '../../src/llm/budget-ledger.ts';
import type { BudgetHold } from '../../src/llm/router/budget.ts';
import { RouterError, RouterRefusal } from '../../src/llm/router/errors.ts';
import { createRouter } from '../../src/llm/router/router.ts';
import { createSpendGuard } from '../../src/llm/router/spend-guard.ts';
import type { Provider } from '../../src/llm/provider-spec/contract.ts';
import type { AdminNotice, AdminNotices } from '../../src/notices/admin-notice.ts';
import { statusEmbed } from '../../src/discord/ai-config/status-report.ts';
import { parseConfigText } from '../../src/llm/plugin-host/config-file.ts';
import { ManualClock, systemClock } from '../../src/resilience/clock.ts';
import type { Vault } from '../../src/vault/vault.ts';
import { start as startAnthropic, type AnthropicEmulator } from '../emulators/anthropic/server.ts';
import { start as startOpenAI, type OpenAIEmulator } from '../emulators/openai/server.ts';
import { RACE_USAGE, RACE_MODEL, raceCallMax, raceInChild, raceRequest, runRace, spentToday } from '../helpers/budget-race.ts';
import { createPostgresDatabase, describeEachDatabase } from '../helpers/databases.ts';
import { MemoryLogger, NOON, ask, createVault, ctx, failure, newGuild, rowsFor, startService, type TestService } from './support.ts';

class RecordedNotices implements AdminNotices {
  readonly posted: AdminNotice[] = [];
  async post(notice: AdminNotice): Promise<void> {
    this.posted.push(notice);
  }
}

const RACE_CALL_USD = (RACE_USAGE.inputTokens * RACE_MODEL.inputPricePerMTok + RACE_USAGE.outputTokens * RACE_MODEL.outputPricePerMTok) / 1e6;

describeEachDatabase('budget ledger', (database) => {
  let db: Kysely<Database>;
  beforeAll(() => {
    db = database().handle.db;
  });

  const holdsOf = async (guildId: string) =>
    (await db.selectFrom('llm_budget_holds').select('id').where('scope', '=', `guild:${guildId}`).execute()).length;

  it('admits concurrent reservations only while spend plus holds is under the budget', async () => {
    const clock = new ManualClock(NOON);
    const ledger = createBudgetLedger({ db, clock, logger: new MemoryLogger(), budgetFor: () => 1 });
    const guildId = newGuild();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => ledger.reserve({ guildId, budgetUsd: 1, amountUsd: 0.3, now: NOON, leaseMs: 60_000 })),
    );
    // 0, 0.3, 0.6 and 0.9 are under $1; every later one sees $1.20 held.
    expect(results.filter((r) => r.ok)).toHaveLength(4);
    for (const r of results) if (!r.ok) expect(r).toEqual({ ok: false, spentUsd: 0, heldUsd: 1.2 });
    expect(await ledger.today(guildId)).toMatchObject({ day: utcDay(NOON), spentUsd: 0, heldUsd: 1.2 });

    // Settling replaces each hold by its real cost.
    for (const r of results) if (r.ok) await ledger.settle(r.hold, 0.1);
    expect(await ledger.today(guildId)).toMatchObject({ spentUsd: 0.4, heldUsd: 0 });
    expect(await holdsOf(guildId)).toBe(0);
  });

  it("lets a dead process's holds lapse once their lease runs out", async () => {
    const clock = new ManualClock(NOON);
    const ledger = createBudgetLedger({ db, clock, logger: new MemoryLogger(), budgetFor: () => 1 });
    const guildId = newGuild();
    const reserve = (amountUsd: number) => ledger.reserve({ guildId, budgetUsd: 1, amountUsd, now: clock.now(), leaseMs: 60_000 });
    expect((await reserve(0.9)).ok).toBe(true); // never settled: its process "died"
    expect((await reserve(0.2)).ok).toBe(true);
    expect(await reserve(0.1)).toMatchObject({ ok: false, heldUsd: 1.1 });
    clock.advance(60_001);
    expect((await reserve(0.1)).ok).toBe(true);
    expect(await ledger.today(guildId)).toMatchObject({ heldUsd: 0.1 });
  });

  it('starts a day from the operator-paid calls already recorded for it, not guild-paid or earlier days', async () => {
    const guildId = newGuild();
    const row = (cost: number, keySource: string, at: number) => ({
      guild_id: guildId,
      user_id: 'u',
      task: 'summarize',
      provider: 'anthropic',
      model: 'claude-sonnet-4-6',
      cost_usd: cost,
      latency_ms: 10,
      outcome: 'ok',
      key_source: keySource,
      correlation_id: 'before-the-budget',
      created_at: new Date(at),
    });
    await db.insertInto('llm_calls').values([row(0.7, 'operator', NOON - 60_000), row(5, 'guild', NOON), row(9, 'operator', NOON - 86_400_000)]).execute();
    const ledger = createBudgetLedger({ db, clock: new ManualClock(NOON), logger: new MemoryLogger(), budgetFor: () => 1 });
    expect(await ledger.reserve({ guildId, budgetUsd: 0.7, amountUsd: 0.01, now: NOON, leaseMs: 1_000 })).toEqual({
      ok: false,
      spentUsd: 0.7,
      heldUsd: 0,
    });
    expect((await ledger.reserve({ guildId, budgetUsd: 1, amountUsd: 0.01, now: NOON, leaseMs: 1_000 })).ok).toBe(true);
  });

  it('marks 80% and 100% once, and posts each notice once, when two processes settle at the same time', async () => {
    const clock = new ManualClock(NOON);
    const guildId = newGuild();
    const sinks = [new RecordedNotices(), new RecordedNotices()];
    const ledgers = sinks.map((notices) => createBudgetLedger({ db, clock, logger: new MemoryLogger(), budgetFor: () => 1, notices }));
    const holds: Array<[number, BudgetHold]> = [];
    for (let i = 0; i < 10; i++) {
      const r = await ledgers[i % 2]!.reserve({ guildId, budgetUsd: 1, amountUsd: 0.01, now: NOON, leaseMs: 60_000 });
      if (!r.ok) throw new Error('expected a reservation');
      holds.push([i % 2, r.hold]);
    }
    await Promise.all(holds.map(([which, hold]) => ledgers[which]!.settle(hold, 0.1)));

    const posted = sinks.flatMap((s) => s.posted);
    const day = utcDay(NOON);
    expect(posted.map((n) => n.cause).sort()).toEqual([`budget:${day}:100`, `budget:${day}:80`]);
    expect(posted.every((n) => n.kind === 'budget-threshold' && n.guildId === guildId)).toBe(true);
    expect(posted.find((n) => n.cause.endsWith(':100'))?.lines.join(' ')).toMatch(/\$1\.00 of this server's \$1\.00 daily budget is spent/);
    const today = await ledgers[0]!.today(guildId);
    expect(today).toMatchObject({ spentUsd: 1, heldUsd: 0 });
    expect(today.crossed80At?.getTime()).toBe(NOON);
    expect(today.crossed100At?.getTime()).toBe(NOON);

    // Later spend the same day crosses nothing new.
    const more = await ledgers[1]!.reserve({ guildId, budgetUsd: 2, amountUsd: 0.01, now: NOON, leaseMs: 60_000 });
    if (!more.ok) throw new Error('expected a reservation');
    await ledgers[1]!.settle(more.hold, 0.5);
    expect(sinks.flatMap((s) => s.posted)).toHaveLength(2);
  });

  it("keeps 20 concurrent router calls within one call's maximum of the budget", async () => {
    const guildId = newGuild();
    const result = await runRace(db, guildId, 20, 1);
    expect(result.failed).toEqual([]);
    expect(result.answered + result.refused).toBe(20);
    expect(result.refused).toBeGreaterThan(0);
    const spent = await spentToday(db, guildId);
    expect(spent).toBeCloseTo(result.answered * RACE_CALL_USD, 6);
    expect(spent).toBeLessThanOrEqual(1 + raceCallMax());
    // Calls are refused only while reservations fill the budget: at least as many answer as maximums fit in it.
    expect(result.answered).toBeGreaterThanOrEqual(Math.floor(1 / raceCallMax()));
    expect(await holdsOf(guildId)).toBe(0);
  });
});

const postgresUrl = inject('postgresUrl');
describe.skipIf(postgresUrl === '')('budget race across processes [postgres]', () => {
  let created: Awaited<ReturnType<typeof createPostgresDatabase>>;
  beforeAll(async () => {
    created = await createPostgresDatabase();
  });
  afterAll(async () => {
    await created?.drop();
  });

  it("keeps 20 calls from two processes within one call's maximum of a $1 budget", async () => {
    const guildId = `race-${randomUUID().slice(0, 8)}`;
    const [a, b] = await Promise.all([raceInChild(created.url, guildId, 10, 1), raceInChild(created.url, guildId, 10, 1)]);
    expect([...a.failed, ...b.failed]).toEqual([]);
    const answered = a.answered + b.answered;
    expect(answered + a.refused + b.refused).toBe(20);
    const spent = await spentToday(created.handle.db, guildId);
    expect(spent).toBeCloseTo(answered * RACE_CALL_USD, 6);
    expect(spent).toBeLessThanOrEqual(1 + raceCallMax());
    expect(answered).toBeGreaterThanOrEqual(Math.floor(1 / raceCallMax()));
  }, 60_000);
});

const OPERATOR_ANTHROPIC = 'sk-ant-operator-0123456789';
const GUILD_ANTHROPIC = 'sk-ant-guild-a-9876543210';
const OPERATOR_OPENAI = 'sk-openai-operator-0123456789';
const ADMIN = { actorId: 'admin-1' };

const pluginsConfig = (bounds = '') => `
router:
  tasks:
    summarize: [anthropic/claude-sonnet-4-6, openai-compatible/gpt-4o-mini]
    chat: [anthropic/claude-sonnet-4-6]
  retry: { max_rounds: 0, base_ms: 10, max_ms: 20 }
${bounds}
plugins:
  anthropic:
    config: { base_url: "\${ANTHROPIC_BASE_URL}", timeout_ms: 5000 }
  openai-compatible:
    config: { base_url: "\${OPENAI_BASE_URL}", timeout_ms: 5000 }
  local: { enabled: false }
`;

const BOUNDS = `
  prompt_choice:
    summarize:
      allowed_models: [anthropic/claude-sonnet-4-6, anthropic/claude-haiku-4-5, anthropic/claude-opus-4-5]
      max_price_per_mtok: { output: 15 }
`;

describeEachDatabase('budgets in the LLM service', (database) => {
  let anthropic: AnthropicEmulator;
  let openai: OpenAIEmulator;
  let db: Kysely<Database>;
  let vault: Vault;
  let t: TestService;
  let notices: RecordedNotices;

  const env = () => ({
    ANTHROPIC_API_KEY: OPERATOR_ANTHROPIC,
    OPENAI_API_KEY: OPERATOR_OPENAI,
    ANTHROPIC_BASE_URL: anthropic.baseUrl,
    OPENAI_BASE_URL: openai.baseUrl,
    LLM_USER_RATE_PER_MIN: '0',
    LLM_GUILD_RATE_PER_MIN: '0',
  });

  beforeAll(async () => {
    anthropic = await startAnthropic({ keys: { operator: OPERATOR_ANTHROPIC, guildA: GUILD_ANTHROPIC } });
    openai = await startOpenAI({ keys: { operator: OPERATOR_OPENAI } });
    db = database().handle.db;
    vault = await createVault(db);
  });
  afterAll(async () => {
    await anthropic.close();
    await openai.close();
  });
  beforeEach(async () => {
    notices = new RecordedNotices();
    t = await startService({ db, vault, env: env(), config: pluginsConfig(BOUNDS), notices });
  });
  afterEach(async () => {
    await t.close();
  });

  it("serves a guild's own key when the operator-paid budget is used up, passing over only the operator's targets", async () => {
    const guild = newGuild();
    await t.service.settings.update(guild, { dailyBudgetUsd: 0.000001 }, ADMIN);
    // The first call starts under the budget and spends past it.
    expect((await t.service.router.generate(ask('first'), ctx(guild))).keySource).toBe('operator');
    const err = await failure(() => t.service.router.generate(ask('second'), ctx(guild)));
    expect(err).toBeInstanceOf(RouterRefusal);
    expect(err.message).toMatch(/daily budget of \$0\.000001 is used up/);

    await t.service.keys.setGuildKey(guild, 'anthropic', GUILD_ANTHROPIC, ADMIN);
    const c = ctx(guild);
    const res = await t.service.router.generate(ask('with our own key'), c);
    expect(res).toMatchObject({ provider: 'anthropic', keySource: 'guild' });
    expect(res.attempts).toContainEqual(
      expect.objectContaining({ provider: 'openai-compatible', status: 'skipped', reason: 'budget', detail: expect.stringMatching(/used up/) }),
    );
    await t.service.usage.flush();
    expect((await rowsFor(db, c.correlationId))[0]).toMatchObject({ key_source: 'guild', outcome: 'ok' });
  });

  it('posts the 80% and 100% notices once and shows the crossings in /ai-config status', async () => {
    const guild = newGuild();
    await t.service.settings.update(guild, { dailyBudgetUsd: 0.000001 }, ADMIN);
    await t.service.router.generate(ask('spends past the budget'), ctx(guild));
    await failure(() => t.service.router.generate(ask('refused'), ctx(guild)));
    expect(notices.posted.map((n) => n.cause).sort()).toEqual([`budget:${utcDay(NOON)}:100`, `budget:${utcDay(NOON)}:80`]);

    const budgetDay = await t.service.usage.budgetToday(guild);
    const settings = await t.service.settings.get(guild);
    const field = statusEmbed({ settings, enabled: t.service.enabledProviders(), keys: [], budgetDay }).fields?.find((f) => f.name === 'Budget today');
    expect(field?.value).toMatch(/100% reached <t:\d+:f>/);
    expect(field?.value).toMatch(/80% reached <t:\d+:f>/);
  });

  it("holds a prompt's choice of model to the operator's bounds on the operator's key, not on the guild's own", async () => {
    const guild = newGuild();
    const opus = { ...ask('pick opus'), preferred: { model: 'claude-opus-4-5' } };
    const clamped = await t.service.router.generate(opus, ctx(guild));
    expect(clamped.model).toBe('claude-sonnet-4-6');
    expect(clamped.preferredIgnored).toMatch(
      /claude-opus-4-5, outside the operator's bounds for the "summarize" task on the operator's key \(.*\$25 per million output tokens, above the operator's cap of \$15\)/,
    );
    expect(t.logger.entries.some((e) => e.level === 'info' && /outside the operator's bounds/.test(e.msg ?? ''))).toBe(true);

    const haiku = await t.service.router.generate({ ...ask('pick haiku'), preferred: { model: 'claude-haiku-4-5' } }, ctx(guild));
    expect(haiku.model).toBe('claude-haiku-4-5');
    expect(haiku.preferredIgnored).toBeUndefined();

    await t.service.keys.setGuildKey(guild, 'anthropic', GUILD_ANTHROPIC, ADMIN);
    const own = await t.service.router.generate(opus, ctx(guild));
    expect(own).toMatchObject({ model: 'claude-opus-4-5', keySource: 'guild' });
    expect(own.preferredIgnored).toBeUndefined();
  });

  it('refuses a models list outside the allowed list the same way', async () => {
    const narrow = await startService({
      db,
      vault,
      env: env(),
      config: pluginsConfig(`
  prompt_choice:
    summarize:
      allowed_models: [anthropic/claude-haiku-4-5]
`),
    });
    try {
      const res = await narrow.service.router.generate({ ...ask('pick gpt'), preferred: { provider: 'openai-compatible' } }, ctx(newGuild()));
      expect(res.provider).toBe('anthropic');
      expect(res.preferredIgnored).toMatch(/openai-compatible\/gpt-4o-mini is not among the models the operator allows prompts to pick \(anthropic\/claude-haiku-4-5\)/);
    } finally {
      await narrow.close();
    }
  });
});

describe('prompt_choice in the plugins config', () => {
  it('is checked like every other setting, naming the file and line', () => {
    const parse = (text: string) => () => parseConfigText(`router:\n  prompt_choice:\n${text}`, 'plugins.yaml', {});
    expect(parse('    summarize:\n      max_price_per_mtok: { output: -1 }\n')).toThrow(
      'plugins.yaml:4:37: field "router.prompt_choice.summarize.max_price_per_mtok.output" must not be negative',
    );
    expect(parse('    summarize:\n      allowed_models: [opus]\n')).toThrow(/plugins\.yaml:4:24: .*must be "provider\/model"/);
    expect(parse('    summarise: {}\n')).toThrow('plugins.yaml:3:5: unknown field "router.prompt_choice.summarise"');
    expect(parse('    chat:\n      allowed_models: [anthropic/claude-haiku-4-5]\n')().config.router.prompt_choice).toEqual({
      chat: { allowed_models: ['anthropic/claude-haiku-4-5'] },
    });
  });
});

describe('a budget ledger whose database is unreachable', () => {
  it("makes no call on the operator's key, says why, and still serves the guild's own key", async () => {
    // A real refused connection: nothing listens on port 1.
    const pool = new pg.Pool({ connectionString: 'postgres://recap@127.0.0.1:1/none', connectionTimeoutMillis: 1_000 });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const calls: string[] = [];
    const provider = (name: string): Provider => ({
      name,
      models: [{ ...RACE_MODEL }],
      requiresKey: true,
      async generate(request) {
        calls.push(`${name}:${request.apiKey ?? ''}`);
        return { text: 'ok', finishReason: 'stop', usage: { ...RACE_USAGE }, provider: name, model: request.model };
      },
      stream: () => {
        throw new Error('not used');
      },
      health: async () => ({ ok: true }),
    });
    const providers = new Map([
      ['paid', provider('paid')],
      ['own', provider('own')],
    ]);
    const logger = new MemoryLogger();
    const routerFor = (targets: string[]) =>
      createRouter({
        providers: { getProvider: (name) => providers.get(name) },
        plan: () => targets.map((p) => ({ provider: p, model: RACE_MODEL.id })),
        keys: (p) => (p === 'own' ? { apiKey: 'guild-key', source: 'guild' } : { apiKey: 'operator-key', source: 'operator' }),
        spendGuard: createSpendGuard({ clock: systemClock }),
        budget: createBudgetLedger({ db, clock: systemClock, logger, budgetFor: () => 1 }),
        usage: { record: () => undefined },
        clock: systemClock,
        random: Math.random,
        logger,
      });
    try {
      const err = await failure(() => routerFor(['paid']).generate(raceRequest(), ctx('g-db-down')));
      expect(err).toBeInstanceOf(RouterError);
      expect(err).toMatchObject({ kind: 'unavailable' });
      expect(err.message).toMatch(/could not be read from the database, so no call paid with the operator's key is made/);
      expect(calls).toEqual([]);
      expect(logger.entries.some((e) => e.level === 'error' && e.msg === 'budget reservation failed')).toBe(true);

      const res = await routerFor(['paid', 'own']).generate(raceRequest(), ctx('g-db-down'));
      expect(res).toMatchObject({ provider: 'own', keySource: 'guild' });
      expect(calls).toEqual(['own:guild-key']);
    } finally {
      await db.destroy();
    }
  });
});

describeEachDatabase('billed failed attempts and the budget', (database) => {
  let anthropic: AnthropicEmulator;
  let openai: OpenAIEmulator;
  beforeAll(async () => {
    anthropic = await startAnthropic({ keys: { operator: OPERATOR_ANTHROPIC } });
    openai = await startOpenAI({ keys: { operator: OPERATOR_OPENAI } });
  });
  afterAll(async () => {
    await anthropic.close();
    await openai.close();
  });

  it('settles the billed failed attempt and the answer together against the budget', async () => {
    const db = database().handle.db;
    const t = await startService({
      db,
      vault: await createVault(db),
      env: { ANTHROPIC_API_KEY: OPERATOR_ANTHROPIC, OPENAI_API_KEY: OPERATOR_OPENAI, ANTHROPIC_BASE_URL: anthropic.baseUrl, OPENAI_BASE_URL: openai.baseUrl },
      config: pluginsConfig('  timeouts: { first_token_ms: 1500, connect_ms: 3000 }'),
    });
    try {
      const guild = newGuild();
      await t.service.settings.update(guild, { dailyBudgetUsd: 5 }, ADMIN);
      // Headers and message_start (with the input count), then nothing: the first-token timer fires.
      anthropic.faults.enqueue({ type: 'hang', afterDeltas: 0 });
      const c = ctx(guild);
      for await (const event of t.service.router.stream(ask('what happened today?'), c)) void event;
      await t.service.usage.flush();
      const rows = await rowsFor(db, c.correlationId);
      expect(rows.map((r) => r.outcome).sort()).toEqual(['attempt-failed:timeout', 'ok']);
      const recorded = rows.reduce((sum, r) => sum + Number(r.cost_usd), 0);
      expect(rows.find((r) => r.outcome.startsWith('attempt-failed'))?.cost_usd).not.toBe('0.000000');
      await t.close();
      expect((await t.service.usage.budgetToday(guild)).spentUsd).toBeCloseTo(recorded, 6);
    } finally {
      await t.close().catch(() => undefined);
    }
  });
});
