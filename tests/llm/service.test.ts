/**
 * The language-model service end to end: the repository's plugins loaded by
 * the plugin host, the real Anthropic SDK and fetch against the Anthropic and
 * OpenAI emulators on loopback, usage and settings in a real database, guild
 * keys in a real vault.
 */
import { writeFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.ts';
import { GuildAiSettingsError } from '../../src/llm/guild-ai-settings.ts';
import { ProviderError } from '../../src/llm/provider-spec/contract.ts';
import { RouterError, RouterRefusal } from '../../src/llm/router/errors.ts';
import type { Vault } from '../../src/vault/vault.ts';
import { start as startAnthropic, type AnthropicEmulator } from '../emulators/anthropic/server.ts';
import { start as startOpenAI, type OpenAIEmulator } from '../emulators/openai/server.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import {
  NEXT_MIDNIGHT_ISO,
  NOON,
  ask,
  createVault,
  ctx,
  failure,
  newGuild,
  rowsFor,
  startService,
  type TestService,
} from './support.ts';

const OPERATOR_ANTHROPIC = 'sk-ant-operator-0123456789';
const GUILD_A_ANTHROPIC = 'sk-ant-guild-a-9876543210';
const OPERATOR_OPENAI = 'sk-openai-operator-0123456789';
const ADMIN = { actorId: 'admin-1' };

function pluginsConfig(options: { summarize?: string[]; piiRedactor?: boolean; anthropicModels?: string; anthropicOptional?: boolean } = {}): string {
  const summarize = options.summarize ?? ['anthropic/claude-sonnet-4-6', 'openai-compatible/gpt-4o-mini'];
  return `
router:
  tasks:
    summarize: [${summarize.join(', ')}]
    chat: [anthropic/claude-sonnet-4-6, openai-compatible/gpt-4o-mini]
  retry: { max_rounds: 1, base_ms: 10, max_ms: 20 }
plugins:
  anthropic:${options.anthropicOptional ? '\n    optional: true' : ''}
    config:
      base_url: "\${ANTHROPIC_BASE_URL}"
      timeout_ms: 5000${options.anthropicModels ?? ''}
  openai-compatible:
    config: { base_url: "\${OPENAI_BASE_URL}", timeout_ms: 5000 }
  local: { enabled: false }
  pii-redactor: { enabled: ${options.piiRedactor ?? true} }
`;
}

describeEachDatabase('LLM service', (database) => {
  let anthropic: AnthropicEmulator;
  let openai: OpenAIEmulator;
  let db: Kysely<Database>;
  let vault: Vault;
  let t: TestService;
  const extra: TestService[] = [];

  const env = (more: Record<string, string> = {}) => ({
    ANTHROPIC_API_KEY: OPERATOR_ANTHROPIC,
    OPENAI_API_KEY: OPERATOR_OPENAI,
    ANTHROPIC_BASE_URL: anthropic.baseUrl,
    OPENAI_BASE_URL: openai.baseUrl,
    LLM_USER_RATE_PER_MIN: '0',
    LLM_GUILD_RATE_PER_MIN: '0',
    ...more,
  });

  /** Completion calls each emulator has seen so far. */
  const seen = () => ({ anthropic: anthropic.completions().length, openai: openai.completions().length });

  beforeAll(async () => {
    anthropic = await startAnthropic({ keys: { operator: OPERATOR_ANTHROPIC, guildA: GUILD_A_ANTHROPIC } });
    openai = await startOpenAI({ keys: { operator: OPERATOR_OPENAI } });
    db = database().handle.db;
    vault = await createVault(db);
  });

  afterAll(async () => {
    await anthropic.close();
    await openai.close();
  });

  beforeEach(async () => {
    anthropic.faults.reset();
    openai.faults.reset();
    t = await startService({ db, vault, env: env(), config: pluginsConfig() });
  });

  afterEach(async () => {
    await t.close();
    for (const s of extra.splice(0)) await s.close();
  });

  async function onlyRow(correlationId: string) {
    await t.service.usage.flush();
    const rows = await rowsFor(db, correlationId);
    expect(rows).toHaveLength(1);
    return rows[0]!;
  }

  it('falls back from Anthropic answering 529 to the OpenAI-compatible provider at once, and records the call', async () => {
    const guild = newGuild();
    const before = seen();
    anthropic.faults.enqueue({ type: 'overloaded' });
    const c = ctx(guild);

    const res = await t.service.router.generate(ask('How did the launch go?'), c);

    expect(res.provider).toBe('openai-compatible');
    expect(res.text).toContain('Echo of "Summarize the conversation."');
    expect(res.attempts.map((a) => [a.provider, a.status, a.reason])).toEqual([
      ['anthropic', 'failed', 'overloaded'],
      ['openai-compatible', 'ok', undefined],
    ]);
    expect(t.waits).toEqual([]);
    expect(seen()).toEqual({ anthropic: before.anthropic + 1, openai: before.openai + 1 });
    const row = await onlyRow(c.correlationId);
    expect(row).toMatchObject({ guild_id: guild, user_id: 'user-1', task: 'summarize', provider: 'openai-compatible', model: 'gpt-4o-mini', outcome: 'ok', key_source: 'operator' });
    expect(row.input_tokens).toBeGreaterThan(0);
    expect(Number(row.cost_usd)).toBeGreaterThan(0);
  });

  it('honours retry-after when the guild has a single target', async () => {
    const guild = newGuild();
    await t.service.settings.update(guild, { providerOrder: ['anthropic'] }, ADMIN);
    const before = seen();
    anthropic.faults.enqueue({ type: 'rate_limited', retryAfterSeconds: 3 });
    const c = ctx(guild);

    const res = await t.service.router.generate(ask('status?'), c);

    expect(res.provider).toBe('anthropic');
    expect(t.waits).toEqual([3_000]);
    expect(res.attempts.map((a) => [a.status, a.reason, a.round])).toEqual([
      ['failed', 'rate_limited', 0],
      ['ok', undefined, 1],
    ]);
    expect(seen()).toEqual({ anthropic: before.anthropic + 2, openai: before.openai });
    expect((await onlyRow(c.correlationId)).outcome).toBe('ok');
  });

  it('reports a rejected key clearly, without retrying, and records the outcome', async () => {
    const guild = newGuild();
    const badKey = 'sk-ant-revoked-key-000111';
    await t.service.settings.update(guild, { providerOrder: ['anthropic'] }, ADMIN);
    await t.service.keys.setGuildKey(guild, 'anthropic', badKey, ADMIN);
    const before = seen();
    const c = ctx(guild);

    const err = await failure(() => t.service.router.generate(ask('hi'), c));

    expect(err).toBeInstanceOf(RouterError);
    expect((err as RouterError).details.lastError?.kind).toBe('auth');
    expect(err.message).toContain('anthropic/claude-sonnet-4-6: auth (HTTP 401: anthropic: API key rejected (401))');
    expect(t.waits).toEqual([]);
    expect(seen().anthropic).toBe(before.anthropic + 1);
    expect(anthropic.completions().at(-1)).toMatchObject({ authPresent: true });
    expect(anthropic.completions().at(-1)?.keyLabel).toBeUndefined();
    expect(await onlyRow(c.correlationId)).toMatchObject({ outcome: 'error:auth', key_source: 'guild', provider: 'anthropic' });
    expect(`${err.message} ${t.logger.text()}`).not.toContain(badKey);
  });

  it('refuses a call over the daily budget before any provider is asked, saying when it resets', async () => {
    const guild = newGuild();
    const first = await t.service.router.generate(ask('first'), ctx(guild));
    expect(first.costUsd).toBeGreaterThan(0);
    // Exactly what was spent: the next call is over the budget.
    await t.service.settings.update(guild, { dailyBudgetUsd: first.costUsd }, ADMIN);
    const before = seen();
    const c = ctx(guild);

    const err = await failure(() => t.service.router.generate(ask('second'), c));

    expect(err).toBeInstanceOf(RouterRefusal);
    expect(err).toMatchObject({ kind: 'budget', scope: 'guild', resetAt: Date.parse(NEXT_MIDNIGHT_ISO) });
    expect(err.message).toContain(`resets at ${NEXT_MIDNIGHT_ISO} (in 12 h)`);
    expect(seen()).toEqual(before);
    expect(await onlyRow(c.correlationId)).toMatchObject({ outcome: 'refused:budget', provider: null, key_source: 'none' });

    // A new UTC day starts from nothing.
    t.clock.set(Date.parse(NEXT_MIDNIGHT_ISO) + 1_000);
    const next = await t.service.router.generate(ask('third'), ctx(guild));
    expect(next.provider).toBe('anthropic');
  });

  it("counts today's operator-paid spend already in the database, and not guild-paid or yesterday's", async () => {
    const guild = newGuild();
    const row = (cost: number, keySource: string, at: number) => ({
      guild_id: guild,
      user_id: 'u',
      task: 'summarize',
      provider: 'anthropic',
      model: 'claude-sonnet-4-6',
      cost_usd: cost,
      latency_ms: 10,
      outcome: 'ok',
      key_source: keySource,
      correlation_id: 'earlier-process',
      created_at: new Date(at),
    });
    await db
      .insertInto('llm_calls')
      .values([row(1, 'operator', NOON - 3_600_000), row(5, 'guild', NOON - 60_000), row(9, 'operator', NOON - 86_400_000)])
      .execute();
    await t.service.settings.update(guild, { dailyBudgetUsd: 1.5 }, ADMIN);
    expect((await t.service.router.generate(ask('under budget'), ctx(guild))).provider).toBe('anthropic');

    await t.service.settings.update(guild, { dailyBudgetUsd: 1 }, ADMIN);
    const before = seen();
    const err = await failure(() => t.service.router.generate(ask('over budget'), ctx(guild)));
    expect(err).toMatchObject({ kind: 'budget' });
    expect(err.message).toMatch(/daily budget of \$1\.00 is used up \(\$1\.00 spent today\)/);
    expect(seen()).toEqual(before);
  });

  it('treats a budget of zero as switched off', async () => {
    const guild = newGuild();
    await t.service.settings.update(guild, { dailyBudgetUsd: 0 }, ADMIN);
    const before = seen();
    const c = ctx(guild);

    const err = await failure(() => t.service.router.generate(ask('anything'), c));

    expect(err).toMatchObject({ kind: 'budget', resetAt: null });
    expect(err.message).toContain('switched off for this server: its daily budget is $0');
    expect(seen()).toEqual(before);
    expect((await onlyRow(c.correlationId)).outcome).toBe('refused:budget');
  });

  it('does not count calls paid with the guild’s own key against its budget', async () => {
    const guild = newGuild();
    await t.service.keys.setGuildKey(guild, 'anthropic', GUILD_A_ANTHROPIC, ADMIN);
    await t.service.settings.update(guild, { dailyBudgetUsd: 0.000001 }, ADMIN);
    for (let i = 0; i < 3; i++) {
      const res = await t.service.router.generate(ask(`call ${i}`), ctx(guild));
      expect(res.keySource).toBe('guild');
    }
  });

  it('refuses a member over the per-user rate, and only that member', async () => {
    const limited = await startService({ db, vault, env: env({ LLM_USER_RATE_PER_MIN: '2' }), config: pluginsConfig() });
    extra.push(limited);
    const guild = newGuild();
    await limited.service.router.generate(ask('one'), ctx(guild, 'chatty'));
    await limited.service.router.generate(ask('two'), ctx(guild, 'chatty'));
    const before = seen();
    const c = ctx(guild, 'chatty');

    const err = await failure(() => limited.service.router.generate(ask('three'), c));

    expect(err).toBeInstanceOf(RouterRefusal);
    expect(err).toMatchObject({ kind: 'rate', scope: 'user' });
    // A one-minute window counted from the first call (the store keeps wall-clock time, not the test's clock).
    expect(err.message).toMatch(/^Too many requests from you; try again at 2025-06-01T12:0[01]:\d\d\.\d{3}Z \(in (59|60) s\)\.$/);
    expect(seen()).toEqual(before);
    await limited.service.usage.flush();
    expect((await rowsFor(db, c.correlationId))[0]?.outcome).toBe('refused:rate');
    expect((await limited.service.router.generate(ask('other member'), ctx(guild, 'quiet'))).provider).toBe('anthropic');
  });

  it("uses a guild's own key only for that guild, and the operator's key only where allowed", async () => {
    const guildA = newGuild();
    const guildB = newGuild();
    const guildC = newGuild();
    await t.service.keys.setGuildKey(guildA, 'anthropic', GUILD_A_ANTHROPIC, ADMIN);
    await t.service.settings.update(guildC, { allowOperatorKey: false }, ADMIN);

    const a = await t.service.router.generate(ask('a'), ctx(guildA));
    expect(a.keySource).toBe('guild');
    expect(anthropic.completions().at(-1)?.keyLabel).toBe('guildA');

    const b = await t.service.router.generate(ask('b'), ctx(guildB));
    expect(b.keySource).toBe('operator');
    expect(anthropic.completions().at(-1)?.keyLabel).toBe('operator');

    // Guild C may not spend the operator's key: Anthropic is skipped, and the OpenAI-compatible
    // server (which takes calls without a key) is asked without any Authorization at all.
    const before = seen();
    const c = ctx(guildC);
    const err = await failure(() => t.service.router.generate(ask('c'), c));
    expect(seen()).toEqual({ anthropic: before.anthropic, openai: before.openai + 1 });
    expect(openai.completions().at(-1)).toMatchObject({ authPresent: false });
    expect(err.message).toContain(`no API key for "anthropic": this server has none of its own and may not use the operator's`);
    expect((await onlyRow(c.correlationId)).key_source).toBe('none');

    // Removing A's key takes effect at once (no stale cached key).
    expect(await t.service.keys.removeGuildKey(guildA, 'anthropic', ADMIN)).toBe(true);
    await t.service.router.generate(ask('a again'), ctx(guildA));
    expect(anthropic.completions().at(-1)?.keyLabel).toBe('operator');

    const audit = await db.selectFrom('audit_log').select(['action', 'details']).where('guild_id', '=', guildA).orderBy('id').execute();
    expect(audit.map((e) => [e.action, e.details])).toEqual([
      ['ai-config.key.set', { provider: 'anthropic' }],
      ['ai-config.key.remove', { provider: 'anthropic', removed: true }],
    ]);
    expect(t.logger.text()).not.toContain(GUILD_A_ANTHROPIC);
  });

  it("follows a guild's provider order, which also restricts the providers it uses", async () => {
    const guild = newGuild();
    expect(t.service.enabledProviders()).toEqual(['anthropic', 'openai-compatible']);
    // Settings not loaded yet: a window that fits any provider the guild may have chosen.
    expect(t.service.contextWindowFor('summarize', guild)).toBe(128_000);
    await t.service.settings.get(guild);
    expect(t.service.contextWindowFor('summarize', guild)).toBe(200_000);
    expect(t.service.contextWindowFor('summarize', undefined)).toBe(200_000);

    await t.service.settings.update(guild, { providerOrder: ['openai-compatible', 'anthropic'] }, ADMIN);
    expect((await t.service.router.generate(ask('x'), ctx(guild))).provider).toBe('openai-compatible');

    await t.service.settings.update(guild, { providerOrder: ['openai-compatible'] }, ADMIN);
    expect(t.service.contextWindowFor('summarize', guild)).toBe(128_000);
    openai.faults.enqueue({ type: 'overloaded' }, { type: 'overloaded' });
    const before = seen();
    const err = await failure(() => t.service.router.generate(ask('y'), ctx(guild)));
    expect(err).toBeInstanceOf(RouterError);
    expect(seen()).toEqual({ anthropic: before.anthropic, openai: before.openai + 2 });

    const bad = await failure(() => t.service.settings.update(guild, { providerOrder: ['bedrock'] }, ADMIN));
    expect(bad).toBeInstanceOf(GuildAiSettingsError);
    expect(bad.message).toBe(
      'invalid AI settings: providerOrder names "bedrock", which is not enabled (enabled providers: anthropic, openai-compatible)',
    );
    // Clearing the order goes back to the operator's plan.
    await t.service.settings.update(guild, { providerOrder: null }, ADMIN);
    expect((await t.service.router.generate(ask('z'), ctx(guild))).provider).toBe('anthropic');
  });

  it('redacts personal data before the request leaves, unless the guild switched redaction off', async () => {
    const text = 'Mail alice@example.com or call +1 415 555 0142 about the launch.';
    await t.service.router.generate(ask(text), ctx(newGuild()));
    const sent = anthropic.completions().at(-1)?.call?.messages[0]?.content ?? '';
    expect(sent).toContain('[email]');
    expect(sent).toContain('[phone]');
    expect(sent).not.toContain('alice@example.com');
    expect(JSON.stringify(anthropic.completions().at(-1)?.body)).not.toContain('alice@example.com');

    const optedOut = newGuild();
    await t.service.settings.update(optedOut, { piiRedaction: false }, ADMIN);
    await t.service.router.generate(ask(text), ctx(optedOut));
    expect(anthropic.completions().at(-1)?.call?.messages[0]?.content).toBe(text);
  });

  it('turns garbage JSON into a clear, recorded error and keeps serving', async () => {
    const guild = newGuild();
    await t.service.settings.update(guild, { providerOrder: ['anthropic'] }, ADMIN);
    anthropic.faults.enqueue({ type: 'garbage_json' }, { type: 'garbage_json' });
    const c = ctx(guild);

    const err = await failure(() => t.service.router.generate(ask('q'), c));

    expect(err).toBeInstanceOf(RouterError);
    expect((err as RouterError).details.lastError?.kind).toBe('invalid_response');
    expect(err.message).toMatch(/^every language-model target failed: anthropic\/claude-sonnet-4-6: invalid_response/);
    expect((await onlyRow(c.correlationId)).outcome).toBe('error:invalid_response');
    expect((await t.service.router.generate(ask('again'), ctx(guild))).provider).toBe('anthropic');
  });

  it('turns a malformed SSE frame mid-stream into a clear, recorded error and keeps serving', async () => {
    const guild = newGuild();
    await t.service.settings.update(guild, { providerOrder: ['openai-compatible'] }, ADMIN);
    openai.faults.enqueue({ type: 'malformed_sse', afterDeltas: 2 });
    const c = ctx(guild, 'user-1', 'chat');
    const deltas: string[] = [];

    const err = await failure(async () => {
      for await (const event of t.service.router.stream(ask('stream please'), c)) if (event.type === 'text') deltas.push(event.delta);
    });

    expect(deltas).toHaveLength(2);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).kind).toBe('invalid_response');
    const row = await onlyRow(c.correlationId);
    expect(row).toMatchObject({ outcome: 'error:invalid_response', task: 'chat', provider: 'openai-compatible' });
    expect(row.output_tokens).toBeGreaterThan(0);

    const events = [];
    for await (const event of t.service.router.stream(ask('once more'), ctx(guild, 'user-1', 'chat'))) events.push(event.type);
    expect(events.at(-1)).toBe('finish');
  });

  it('exposes recap_llm_* metrics after calls', async () => {
    await t.service.router.generate(ask('metrics'), ctx(newGuild()));
    const text = await t.metrics.metrics();
    expect(text).toContain('recap_llm_requests_total{provider="anthropic",model="claude-sonnet-4-6",task="summarize",outcome="ok"} 1');
    expect(text).toMatch(/recap_llm_tokens_total\{direction="input"\} [1-9]/);
    expect(text).toMatch(/recap_llm_cost_usd_total [0-9.e-]+/);
    expect(text).toContain('recap_llm_request_duration_seconds_count{provider="anthropic",model="claude-sonnet-4-6",task="summarize"} 1');
    expect(text).toContain('recap_circuit_state{target="anthropic/claude-sonnet-4-6",state="closed"} 1');
    expect(text).toContain('recap_circuit_state{target="anthropic/claude-sonnet-4-6",state="open"} 0');
  });

  it('routes around a provider that fails its health check, without calling it', async () => {
    const doomed = await startOpenAI({ keys: null });
    const s = await startService({
      db,
      vault,
      env: env({ OPENAI_BASE_URL: doomed.baseUrl }),
      config: pluginsConfig({ summarize: ['openai-compatible/gpt-4o-mini', 'anthropic/claude-sonnet-4-6'] }),
    });
    extra.push(s);
    await s.service.refreshHealth();
    expect((await s.service.router.generate(ask('up'), ctx(newGuild()))).provider).toBe('openai-compatible');

    await doomed.close();
    await s.service.refreshHealth();
    const res = await s.service.router.generate(ask('down'), ctx(newGuild()));
    expect(res.provider).toBe('anthropic');
    expect(res.attempts[0]).toMatchObject({ provider: 'openai-compatible', status: 'skipped', reason: 'provider_unhealthy' });
    expect(s.service.contextWindowFor('summarize', undefined)).toBe(200_000);
  });

  it('applies a reloaded plugins config (targets and processors) to the same router', async () => {
    const router = t.service.router;
    const path = t.configPath;
    if (path === undefined) throw new Error('the test service has a config file');
    await writeFile(path, pluginsConfig({ summarize: ['openai-compatible/gpt-4o-mini'], piiRedactor: false }));

    const result = await t.service.reload();

    expect(result.ok).toBe(true);
    const res = await router.generate(ask('reach me at bob@example.org'), ctx(newGuild()));
    expect(res.provider).toBe('openai-compatible');
    expect(openai.completions().at(-1)?.call?.messages[0]?.content).toContain('bob@example.org');
  });

  const modelWithoutWindow = `
      models:
        - id: claude-sonnet-4-6
          max_output_tokens: 64000
          input_price: 3
          output_price: 15`;

  it('refuses a reload whose anthropic models entry lacks context_window, keeps the running set and names file and line', async () => {
    const router = t.service.router;
    const path = t.configPath;
    if (path === undefined) throw new Error('the test service has a config file');
    const text = pluginsConfig({ summarize: ['anthropic/claude-sonnet-4-6'], anthropicModels: modelWithoutWindow });
    await writeFile(path, text);
    const entryLine = text.split('\n').findIndex((line) => line.includes('- id: claude-sonnet-4-6')) + 1;

    const result = await t.service.reload();

    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ line: entryLine, message: expect.stringMatching(/^anthropic: models\.0\.context_window: /) });
    expect(result.error).toContain(`:${entryLine}: anthropic: models.0.context_window`);
    // The previous set (anthropic first for summarize) still answers.
    const res = await router.generate(ask('still anthropic'), ctx(newGuild()));
    expect(res.provider).toBe('anthropic');
    expect(t.service.enabledProviders()).toContain('anthropic');
  });

  it('reloads without an optional plugin whose settings are refused', async () => {
    const router = t.service.router;
    const path = t.configPath;
    if (path === undefined) throw new Error('the test service has a config file');
    await writeFile(path, pluginsConfig({ summarize: ['anthropic/claude-sonnet-4-6', 'openai-compatible/gpt-4o-mini'], anthropicModels: modelWithoutWindow, anthropicOptional: true }));

    const result = await t.service.reload();

    expect(result.ok).toBe(true);
    const res = await router.generate(ask('anthropic is out'), ctx(newGuild()));
    expect(res.provider).toBe('openai-compatible');
    expect(t.service.enabledProviders()).not.toContain('anthropic');
  });
});
