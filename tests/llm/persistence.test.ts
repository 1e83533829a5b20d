/**
 * The service's database parts on PGlite and real Postgres: guild AI
 * settings (validation, merging, audit, cache), the batched usage writer
 * (nothing lost, not even while the database fails), the spend store
 * (exact totals while writes are pending), usage reports, and guild keys.
 */
import { sql, type Kysely } from 'kysely';
import { Registry } from 'prom-client';
import { beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/db/schema.ts';
import { createGuildAiSettings, GuildAiSettingsError } from '../../src/llm/guild-ai-settings.ts';
import { createGuildKeys, GuildKeyError, keyPurpose } from '../../src/llm/guild-keys.ts';
import type { ProviderSecrets } from '../../src/llm/provider-secrets.ts';
import { createLlmService } from '../../src/llm/service.ts';
import { usageSummary } from '../../src/llm/usage-summary.ts';
import { createUsageWriter } from '../../src/llm/usage-writer.ts';
import { ManualClock } from '../../src/resilience/clock.ts';
import type { KeySource, UsageRecord } from '../../src/llm/router/types.ts';
import type { Vault } from '../../src/vault/vault.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { MemoryLogger, NOON, createVault, failure, newGuild } from './support.ts';

const ADMIN = { actorId: 'admin-7', correlationId: 'corr-1' };
const HOUR = 3_600_000;

function record(guildId: string | null, costUsd: number, keySource: KeySource = 'operator', at = NOON, outcome: UsageRecord['outcome'] = 'ok'): UsageRecord {
  return {
    guildId,
    userId: 'u1',
    task: 'summarize',
    provider: outcome === 'ok' ? 'anthropic' : null,
    model: outcome === 'ok' ? 'claude-sonnet-4-6' : null,
    inputTokens: 100,
    outputTokens: 50,
    costUsd,
    latencyMs: 12,
    outcome,
    correlationId: `c-${Math.random().toString(36).slice(2)}`,
    keySource,
    at: new Date(at),
  };
}

describeEachDatabase('LLM persistence', (database) => {
  let db: Kysely<Database>;
  let vault: Vault;
  const calls = () => db.selectFrom('llm_calls');
  const countFor = async (guildId: string) =>
    Number((await calls().select((eb) => eb.fn.countAll<string>().as('n')).where('guild_id', '=', guildId).executeTakeFirstOrThrow()).n);

  beforeAll(async () => {
    db = database().handle.db;
    vault = await createVault(db);
  });

  it('gives defaults, validates updates field by field, keeps other features’ settings and audits the change', async () => {
    const clock = new ManualClock(NOON);
    const logger = new MemoryLogger();
    const settings = createGuildAiSettings({ db, clock, logger, knownProviders: () => ['anthropic', 'local'] });
    const guild = newGuild();
    await db.insertInto('guild_settings').values({ guild_id: guild, settings: JSON.stringify({ prompts: { locale: 'fr' } }) }).execute();

    expect(await settings.get(guild)).toEqual({ allowOperatorKey: true, piiRedaction: true });
    const problems = [
      [{ dailyBudgetUsd: -1 }, 'invalid AI settings: dailyBudgetUsd must not be negative (0 switches language-model calls off)'],
      [{ piiRedaction: 'no' }, 'invalid AI settings: piiRedaction must be true or false'],
      [{ budget: 5 }, 'invalid AI settings: unknown setting "budget"'],
      [{ providerOrder: ['local', 'local'] }, 'invalid AI settings: providerOrder must not name a provider twice'],
      [{ providerOrder: ['Local!'] }, 'invalid AI settings: providerOrder.0 must be a provider name (lowercase letters, digits and "-")'],
    ] as const;
    for (const [patch, message] of problems) {
      const err = await failure(() => settings.update(guild, patch, ADMIN));
      expect(err).toBeInstanceOf(GuildAiSettingsError);
      expect(err.message).toBe(message);
    }

    const updated = await settings.update(guild, { dailyBudgetUsd: 2.5, providerOrder: ['local'], allowOperatorKey: false }, ADMIN);
    expect(updated).toEqual({ dailyBudgetUsd: 2.5, providerOrder: ['local'], allowOperatorKey: false, piiRedaction: true });
    await settings.update(guild, { dailyBudgetUsd: null }, ADMIN);

    const row = await db.selectFrom('guild_settings').select(['settings', 'updated_by']).where('guild_id', '=', guild).executeTakeFirstOrThrow();
    expect(row).toEqual({
      settings: { prompts: { locale: 'fr' }, ai: { dailyBudgetUsd: null, providerOrder: ['local'], allowOperatorKey: false } },
      updated_by: 'admin-7',
    });
    const audit = await db.selectFrom('audit_log').select(['action', 'actor_id', 'details', 'correlation_id']).where('guild_id', '=', guild).orderBy('id').execute();
    expect(audit).toEqual([
      {
        action: 'ai-config.settings',
        actor_id: 'admin-7',
        correlation_id: 'corr-1',
        details: {
          changed: {
            dailyBudgetUsd: { from: null, to: 2.5 },
            providerOrder: { from: null, to: ['local'] },
            allowOperatorKey: { from: null, to: false },
          },
        },
      },
      { action: 'ai-config.settings', actor_id: 'admin-7', correlation_id: 'corr-1', details: { changed: { dailyBudgetUsd: { from: 2.5, to: null } } } },
    ]);
  });

  it('sees another process’s change once the cache entry expires, and reads bad stored values cautiously', async () => {
    const clock = new ManualClock(NOON);
    const logger = new MemoryLogger();
    const settings = createGuildAiSettings({ db, clock, logger, ttlMs: 60_000 });
    const guild = newGuild();
    await settings.update(guild, { dailyBudgetUsd: 1 }, ADMIN);
    expect((await settings.get(guild)).dailyBudgetUsd).toBe(1);

    await db
      .updateTable('guild_settings')
      .set({ settings: JSON.stringify({ ai: { dailyBudgetUsd: 'lots', allowOperatorKey: 'sure', piiRedaction: false } }) })
      .where('guild_id', '=', guild)
      .execute();
    expect((await settings.get(guild)).dailyBudgetUsd).toBe(1);
    clock.advance(60_001);

    expect(await settings.get(guild)).toEqual({ dailyBudgetUsd: 0, allowOperatorKey: false, piiRedaction: false });
    expect(logger.entries.find((e) => e.level === 'warn')?.obj).toEqual({ guildId: guild, fields: ['dailyBudgetUsd', 'allowOperatorKey'] });
  });

  it('writes every usage record on flush, batching by size, and keeps records while the database fails', async () => {
    const logger = new MemoryLogger();
    const writer = createUsageWriter({ db, logger, batchSize: 3, flushIntervalMs: 60_000 });
    const guild = newGuild();
    for (let i = 0; i < 4; i++) writer.record(record(guild, 0.01));
    // Three went out as a batch; the fourth waits for a flush.
    await writer.afterPendingWrites(async () => undefined);
    expect(await countFor(guild)).toBe(4);

    await sql`alter table llm_calls rename to llm_calls_away`.execute(db);
    try {
      writer.record(record(guild, 0.02));
      writer.record(record(guild, 0.03, 'guild'));
      await expect(writer.flush()).rejects.toThrow(/llm_calls/);
      expect(writer.pending).toBe(2);
      expect(logger.entries.at(-1)).toMatchObject({ level: 'error', obj: { records: 2 }, msg: 'usage records could not be written; they are kept and retried' });
    } finally {
      await sql`alter table llm_calls_away rename to llm_calls`.execute(db);
    }
    writer.record(record(guild, 0.04));
    await writer.close();
    expect(writer.pending).toBe(0);
    const stored = await calls().select(['cost_usd', 'key_source']).where('guild_id', '=', guild).orderBy('id').execute();
    expect(stored.map((r) => [Number(r.cost_usd), r.key_source])).toEqual([
      [0.01, 'operator'],
      [0.01, 'operator'],
      [0.01, 'operator'],
      [0.01, 'operator'],
      [0.02, 'operator'],
      [0.03, 'guild'],
      [0.04, 'operator'],
    ]);
  });

  it('summarizes usage for today and the last days by provider and model', async () => {
    const clock = new ManualClock(NOON);
    const writer = createUsageWriter({ db, logger: new MemoryLogger() });
    const guild = newGuild();
    const openai = (cost: number, at: number): UsageRecord => ({ ...record(guild, cost, 'operator', at), provider: 'openai-compatible', model: 'gpt-4o-mini' });
    writer.record(record(guild, 0.5));
    writer.record(record(guild, 0.25, 'guild', NOON - HOUR));
    writer.record(record(guild, 0, 'none', NOON, 'refused:budget'));
    writer.record(openai(0.125, NOON - 2 * 24 * HOUR));
    writer.record(openai(9, NOON - 9 * 24 * HOUR)); // outside the week
    writer.record(record(newGuild(), 3));
    await writer.close();

    const summary = await usageSummary(db, clock, guild, { days: 7 });

    expect(summary.today).toMatchObject({
      since: new Date('2025-06-01T00:00:00.000Z'),
      requests: 3,
      failed: 1,
      inputTokens: 300,
      outputTokens: 150,
      costUsd: 0.75,
      operatorCostUsd: 0.5,
    });
    expect(summary.today.byTarget.map((t) => [t.provider, t.model, t.requests, t.costUsd])).toEqual([
      ['anthropic', 'claude-sonnet-4-6', 2, 0.75],
      [null, null, 1, 0],
    ]);
    expect(summary.lastDays).toMatchObject({ days: 7, since: new Date('2025-05-26T00:00:00.000Z'), requests: 4, costUsd: 0.875 });
    expect(summary.lastDays.byTarget.map((t) => [t.provider, t.requests, t.costUsd])).toEqual([
      ['anthropic', 2, 0.75],
      ['openai-compatible', 1, 0.125],
      [null, 1, 0],
    ]);
    await expect(usageSummary(db, clock, guild, { days: 0 })).rejects.toThrow('days must be a whole number from 1 to 90 (got 0)');
  });

  it('stores guild keys only for providers that take them, never echoing the key', async () => {
    const service = await createLlmService({ env: {}, db, vault, logger: new MemoryLogger(), metrics: new Registry(), clock: new ManualClock(NOON) });
    try {
      const guild = newGuild();
      expect(service.enabledProviders()).toEqual(['local']);
      const notEnabled = await failure(() => service.keys.setGuildKey(guild, 'anthropic', 'sk-ant-whatever-123', ADMIN));
      expect(notEnabled).toBeInstanceOf(GuildKeyError);
      expect(notEnabled.message).toBe('unknown provider "anthropic" (enabled providers: local)');
      const keyless = await failure(() => service.keys.setGuildKey(guild, 'local', 'sk-local-whatever-123', ADMIN));
      expect(keyless.message).toBe('provider "local" does not take a server\'s own API key');
      const removed = await service.keys.removeGuildKey(guild, 'anthropic', ADMIN);
      expect(removed).toBe(false);
      expect(await service.usage.summary(guild)).toMatchObject({ today: { requests: 0 } });
    } finally {
      await service.close();
    }
  });

  it('caches a decrypted guild key for a short time only, and rejects malformed keys without echoing them', async () => {
    const clock = new ManualClock(NOON);
    const guild = newGuild();
    const secrets: ProviderSecrets = {
      byProvider: new Map([['anthropic', { env: 'ANTHROPIC_API_KEY', guildOverridable: true }]]),
      operatorKey: () => 'sk-operator-0000',
      guildOverridable: (provider) => provider === 'anthropic',
    };
    const keys = createGuildKeys({
      vault,
      db,
      settings: { get: async () => ({ allowOperatorKey: false, piiRedaction: true }) },
      secrets: () => secrets,
      enabledProviders: () => ['anthropic'],
      clock,
      ttlMs: 60_000,
    });

    expect(await keys.resolve('anthropic', guild)).toEqual({ apiKey: '', source: 'none' });
    await keys.setGuildKey(guild, 'anthropic', '  sk-ant-first-key-0001  ', ADMIN);
    expect(await keys.resolve('anthropic', guild)).toEqual({ apiKey: 'sk-ant-first-key-0001', source: 'guild' });
    expect((await keys.storedAt(guild, 'anthropic'))?.getTime()).toBeGreaterThan(0);

    // Another process replaces the key in the vault: seen once the cached one expires.
    await vault.put(guild, keyPurpose('anthropic'), 'sk-ant-second-key-0002', 'elsewhere');
    expect((await keys.resolve('anthropic', guild)).apiKey).toBe('sk-ant-first-key-0001');
    clock.advance(60_001);
    expect((await keys.resolve('anthropic', guild)).apiKey).toBe('sk-ant-second-key-0002');

    for (const bad of ['short', 'has a space in it', `sk-${'x'.repeat(600)}`, 'sk-line\nbreak-0000']) {
      const err = await failure(() => keys.setGuildKey(guild, 'anthropic', bad, ADMIN));
      expect(err).toBeInstanceOf(GuildKeyError);
      expect(err.message).not.toContain(bad.trim().slice(0, 8));
    }
  });
});
