/**
 * /ai-config end to end: the real bot process against the Discord emulator
 * and an Anthropic emulator (with the offline `local` provider also enabled),
 * driven only as members would (commands, autocomplete, a modal). The steps
 * build on each other, in order: real /summarize calls produce the usage the
 * reports show, and the key stored through the modal is the one the next
 * call sends to Anthropic.
 */
import { PermissionFlagsBits } from 'discord.js';
import { sql } from 'kysely';
import { describe, expect, inject, it } from 'vitest';
import type { AnthropicEmulator } from '../emulators/anthropic/server.ts';
import type { ApiMessage } from '../emulators/discord/server.ts';
import { modelAnswer } from '../discord/responders.ts';
import { EPHEMERAL, field, privateReply, summaryOf, WAIT_MS } from '../helpers/discord-messages.ts';
import type { E2E } from './harness.ts';
import { startE2EWithAnthropicForFile } from './with-anthropic.ts';

const DAY_MS = 86_400_000;

const OPERATOR_KEY = `sk-ant-operator-${'o'.repeat(24)}`;
const GUILD_KEY = `sk-ant-guild-${'Gk7'.repeat(10)}`;
const NOT_A_KEY = 'not a key at all, it has spaces';
const CRAFTED_KEY = `sk-ant-crafted-${'c'.repeat(20)}`;


let e2e: E2E;
let anthropic: AnthropicEmulator;
let adminId: string;
let memberId: string;

startE2EWithAnthropicForFile({ keys: { operator: OPERATOR_KEY, guild: GUILD_KEY }, responder: modelAnswer, local: true }, (started) => {
  ({ e2e, anthropic } = started);
  adminId = e2e.world.admin.id;
  memberId = e2e.world.member.id;
});

async function aiConfig(subcommand: string, options?: Record<string, string | number | boolean>): Promise<ApiMessage> {
  const { reply } = await e2e.runCommand(adminId, 'ai-config', { subcommand, ...(options === undefined ? {} : { options }) });
  expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
  return reply;
}

/** A real summary through the bot, so a real call is recorded; resolves once the summary (with its footer) is shown. */
async function summarize(content: string): Promise<void> {
  const { world, discord } = e2e;
  discord.seedMessages(world.general.id, [{ authorId: world.member.id, content }]);
  await summaryOf(e2e.command(world.member.id, 'summarize', { options: { messages: 5 } }));
}

/** "Operator-paid: $0.0123 (42%)" → 42. */
function operatorShare(totals: string): number {
  const match = /Operator-paid: \$[\d.,]+ \(([\d.]+)%\)/.exec(totals);
  if (match === null) throw new Error(`no operator-paid share in ${totals}`);
  return Number(match[1]);
}

describe('/ai-config end to end', () => {
  it('is registered for Manage Server, in servers only, with its subcommands', () => {
    const registered = e2e.discord.commands.list(e2e.world.guild.id).find((c) => c['name'] === 'ai-config');
    expect(registered?.['default_member_permissions']).toBe(PermissionFlagsBits.ManageGuild.toString());
    expect(registered?.['contexts']).toEqual([0]);
    expect((registered?.['options'] as Array<{ name: string }>).map((o) => o.name)).toEqual([
      'key-set',
      'key-remove',
      'providers',
      'providers-reset',
      'operator-key',
      'pii',
      'budget',
      'budget-clear',
      'usage',
      'status',
    ]);
  });

  it('refuses members without Manage Server at run time, including a crafted key form', async () => {
    // The emulator does not apply default_member_permissions (Discord's client would hide the command).
    await privateReply(e2e.command(memberId, 'ai-config', { subcommand: 'status' }), /Manage Server/);
    await privateReply(e2e.command(memberId, 'ai-config', { subcommand: 'budget', options: { usd: 100 } }), /Manage Server/);
    await privateReply(e2e.command(memberId, 'ai-config', { subcommand: 'key-set', options: { provider: 'anthropic' } }), /Manage Server/);
    const crafted = e2e.submitModal(memberId, { customId: 'ai-config:key:anthropic' }, { key: CRAFTED_KEY });
    await privateReply(crafted, /Manage Server/);
    expect(await e2e.autocomplete(memberId, 'ai-config', { subcommand: 'key-set', focused: 'provider' })).toEqual([]);
  });

  it('autocomplete offers providers that take a key, and orders of the enabled providers', async () => {
    expect(await e2e.autocomplete(adminId, 'ai-config', { subcommand: 'key-set', focused: 'provider' })).toEqual(['anthropic']);
    expect(await e2e.autocomplete(adminId, 'ai-config', { subcommand: 'key-remove', focused: 'provider', options: { provider: 'loc' } })).toEqual([]);
    const orders = await e2e.autocomplete(adminId, 'ai-config', { subcommand: 'providers', focused: 'order' });
    expect(orders).toEqual(['anthropic,local', 'anthropic', 'local,anthropic', 'local']);
    expect(await e2e.autocomplete(adminId, 'ai-config', { subcommand: 'providers', focused: 'order', options: { order: 'anthropic, l' } })).toEqual([
      'anthropic,local',
    ]);
  });

  it('validates a provider order against the enabled providers, then saves it', async () => {
    const unknown = await aiConfig('providers', { order: 'anthropic,openai' });
    expect(unknown.content).toMatch(/^Unknown provider `openai`: it is not enabled on this bot\. Enabled providers: `anthropic`, `local`\. Nothing was changed\./);
    const twice = await aiConfig('providers', { order: 'local, local' });
    expect(twice.content).toMatch(/^`local` is named twice/);
    const saved = await aiConfig('providers', { order: 'Anthropic, local' });
    expect(saved.content).toMatch(/^Provider order for this server: anthropic → local\./);
    const status = await aiConfig('status');
    expect(field(status, 'Provider order')).toMatch(/^anthropic → local \(set for this server/);
    expect(field(status, 'Enabled providers')).toBe('`anthropic`, `local`');
  });

  it('usage before any call says so; after a summary it shows the operator-paid call', async () => {
    const empty = await aiConfig('usage');
    expect(field(empty, 'Today')).toBe('No calls.');
    expect(empty.embeds[0]?.description).toContain('**Daily budget:** none');

    await summarize('The release is on Friday.');
    const usage = await aiConfig('usage');
    const today = field(usage, 'Today (UTC)');
    expect(today).toMatch(/^1 request\nTokens: [1-9][\d,]* in \/ [1-9][\d,]* out\nCost: \$0\.\d+\nOperator-paid: \$0\.\d+ \(100%\)$/);
    expect(field(usage, 'Last 30 days')).toBe(today);
    expect(field(usage, 'Today by provider/model')).toMatch(/^`anthropic\/claude-sonnet-4-6`: 1 request, [\d,]+ in \/ [\d,]+ out, \$0\.\d+ \(operator \$0\.\d+\)$/);
    expect(anthropic.completions().at(-1)?.keyLabel).toBe('operator');
    // The status shows the model that answered: working, with its recent latency; the other target not called yet.
    const models = field(await aiConfig('status'), 'Models (last 5 minutes)');
    expect(models).toMatch(/^`anthropic\/claude-sonnet-4-6`: working · p50 [\d.]+ m?s, p95 [\d.]+ m?s \(1 call\)$/m);
    expect(models).toMatch(/^`local\/[^`]+`: working · no recent calls$/m);
  });

  it('key-set: the key is typed in a modal, stored, and used for this server’s next call', async () => {
    const local = await aiConfig('key-set', { provider: 'local' });
    expect(local.content).toMatch(/^`local` does not take a server API key on this bot\. Providers that do: `anthropic`\./);

    const badOpen = e2e.command(adminId, 'ai-config', { subcommand: 'key-set', options: { provider: 'anthropic' } });
    await badOpen.waitForModal(WAIT_MS);
    await privateReply(e2e.submitModal(adminId, badOpen, { key: NOT_A_KEY }), /^That does not look like an API key.*Nothing was saved\./);

    const open = e2e.command(adminId, 'ai-config', { subcommand: 'key-set', options: { provider: 'anthropic' } });
    const modal = await open.waitForModal(WAIT_MS);
    expect(modal['custom_id']).toBe('ai-config:key:anthropic');
    expect(modal['title']).toBe('API key for anthropic');
    await privateReply(e2e.submitModal(adminId, open, { key: GUILD_KEY }), /^Key saved for anthropic \(used only for this server's requests\)\./);

    await summarize('Tests are green.');
    expect(anthropic.completions().at(-1)?.keyLabel).toBe('guild');
    const status = await aiConfig('status');
    expect(field(status, 'Server API keys')).toMatch(/^`anthropic`: set <t:\d+:f> \(<t:\d+:R>\)$/);
    expect(field(status, 'Models (last 5 minutes)')).toMatch(/^`anthropic\/claude-sonnet-4-6` \(this server’s key\): working · /m);

    // Two calls, one paid by each key: the operator's share is part of the cost, not all of it.
    const usage = await aiConfig('usage');
    const today = field(usage, 'Today (UTC)');
    expect(today).toMatch(/^2 requests\n/);
    const share = operatorShare(today);
    expect(share).toBeGreaterThan(0);
    expect(share).toBeLessThan(100);
  });

  it('budget: validated, shown in usage with today’s use; 0 switches the operator’s key off, not the server’s own; clear removes it', async () => {
    const negative = await aiConfig('budget', { usd: -1 });
    expect(negative.content).toMatch(/^The budget must be a number of US dollars, 0 or more\. Nothing was changed\./);

    const set = await aiConfig('budget', { usd: 5 });
    expect(set.content).toMatch(/^Daily budget set to \$5\.00 per UTC day for calls paid with the operator's key; \$0\.\d+ used so far today\./);
    const usage = await aiConfig('usage');
    const spent = /Operator-paid: (\$0\.\d+)/.exec(field(usage, 'Today (UTC)'))?.[1];
    expect(spent).toBeDefined();
    expect(usage.embeds[0]?.description).toContain(`**Daily budget:** $5.00 per UTC day. **Used today:** ${spent} (`);
    expect(usage.embeds[0]?.description).toMatch(/left\.$/);

    const off = await aiConfig('budget', { usd: 0 });
    expect(off.content).toMatch(/^Daily budget set to \$0: calls paid with the operator's key are switched off for this server/);
    // This server stored its own key above: the operator's budget does not hold its calls back.
    const calls = anthropic.completions().length;
    await summarize('One more thing.');
    expect(anthropic.completions()).toHaveLength(calls + 1);
    expect(anthropic.completions().at(-1)?.keyLabel).toBe('guild');
    expect(field(await aiConfig('status'), 'Daily budget')).toBe('$0: calls on the operator’s key are switched off');

    const cleared = await aiConfig('budget-clear');
    expect(cleared.content).toMatch(/^Daily budget removed/);
    expect(field(await aiConfig('status'), 'Daily budget')).toBe('none');
  });

  it.skipIf(inject('postgresUrl') === '')('usage counts the last 30 UTC days by provider and model (seeded rows, Postgres only)', async () => {
    // PGlite admits one process at a time, so rows can be added while the bot runs only on Postgres.
    const db = await e2e.database.open();
    const guildId = e2e.world.guild.id;
    const row = (daysAgo: number, values: { provider: string | null; model: string | null; cost: number; keySource: string; outcome?: string }) => ({
      guild_id: guildId,
      user_id: memberId,
      task: 'summarize',
      provider: values.provider,
      model: values.model,
      input_tokens: values.provider === null ? 0 : 1_000,
      output_tokens: values.provider === null ? 0 : 200,
      cost_usd: values.cost,
      latency_ms: 900,
      outcome: values.outcome ?? 'ok',
      key_source: values.keySource,
      correlation_id: 'seeded',
      created_at: new Date(Date.now() - daysAgo * DAY_MS),
    });
    await db
      .insertInto('llm_calls')
      .values([
        row(3, { provider: 'anthropic', model: 'claude-haiku-4-5', cost: 1.25, keySource: 'operator' }),
        row(3, { provider: 'anthropic', model: 'claude-haiku-4-5', cost: 0.75, keySource: 'guild' }),
        row(12, { provider: null, model: null, cost: 0, keySource: 'none', outcome: 'unavailable' }),
        // Outside the 30 days.
        row(45, { provider: 'anthropic', model: 'claude-opus-4-5', cost: 9, keySource: 'operator' }),
      ])
      .execute();

    const usage = await aiConfig('usage');
    // Today: the three summaries (the last on this server's own key under the $0 budget); the seeded rows are older.
    const today = field(usage, 'Today (UTC)');
    expect(today).toMatch(/^3 requests\n/);
    const month = field(usage, 'Last 30 days');
    expect(month).toMatch(/^6 requests \(1 failed\)\nTokens: [\d,]+ in \/ [\d,]+ out\nCost: \$2\.\d\d\n/);
    const targets = field(usage, 'Last 30 days by provider/model');
    expect(targets.split('\n')[0]).toBe('`anthropic/claude-haiku-4-5`: 2 requests, 2,000 in / 400 out, $2.00 (operator $1.25)');
    expect(targets).toContain('no provider reached: 1 request (1 failed), 0 in / 0 out, $0.00');
    expect(targets).not.toContain('claude-opus-4-5');
    expect(field(usage, 'Today by provider/model')).not.toContain('claude-haiku-4-5');
  });

  it('operator key, PII redaction and key removal change the status; providers-reset restores the operator’s order', async () => {
    expect((await aiConfig('operator-key', { allowed: false })).content).toMatch(/no longer serve this server/);
    expect((await aiConfig('pii', { enabled: false })).content).toMatch(/^PII redaction is off/);
    expect((await aiConfig('providers-reset')).content).toBe('This server now uses the operator’s provider order: anthropic → local.');
    const status = await aiConfig('status');
    expect(field(status, 'Operator’s key')).toBe('not allowed');
    expect(field(status, 'PII redaction')).toBe('off');
    expect(field(status, 'Provider order')).toBe('the operator’s: anthropic → local');

    expect((await aiConfig('key-remove', { provider: 'anthropic' })).content).toMatch(/^Key removed for anthropic\. This server's calls to it now have no key/);
    expect((await aiConfig('key-remove', { provider: 'anthropic' })).content).toBe('No key is stored for `anthropic` on this server; nothing was removed.');
    expect(field(await aiConfig('status'), 'Server API keys')).toBe('`anthropic`: not set');
  });

  it('stores the key encrypted, never shows it, audits every change with the admin as actor, and exits cleanly', async () => {
    const open = e2e.command(adminId, 'ai-config', { subcommand: 'key-set', options: { provider: 'anthropic' } });
    await open.waitForModal(WAIT_MS);
    await privateReply(e2e.submitModal(adminId, open, { key: GUILD_KEY }), /^Key saved for anthropic/);

    expect(e2e.unanswered().map((h) => h.describe())).toEqual([]);
    expect(e2e.discord.internalErrors).toEqual([]);
    await e2e.bot.stop();

    for (const secret of [GUILD_KEY, NOT_A_KEY, CRAFTED_KEY, OPERATOR_KEY]) expect(e2e.leaksOf(secret)).toEqual([]);
    expect(e2e.bot.linesAtLeast(50).map((l) => l.raw)).toEqual([]);

    const db = await e2e.database.open();
    const guildId = e2e.world.guild.id;
    const secrets = await db.selectFrom('secrets').selectAll().where('guild_id', '=', guildId).execute();
    expect(secrets.map((s) => s.purpose)).toEqual(['provider-key:anthropic']);
    const stored = Buffer.from(secrets[0]!.ciphertext);
    expect(stored.length).toBeGreaterThanOrEqual(GUILD_KEY.length);
    expect(stored.includes(GUILD_KEY)).toBe(false);
    const { rows } = await sql<{ hits: number }>`select count(*)::int as hits from secrets where encode(ciphertext, 'escape') like ${`%${GUILD_KEY}%`}`.execute(db);
    expect(rows[0]?.hits).toBe(0);

    const audit = await db
      .selectFrom('audit_log')
      .select(['action', 'actor_id', 'details', 'correlation_id'])
      .where('guild_id', '=', guildId)
      .orderBy('id')
      .execute();
    const changed = (a: (typeof audit)[number]) => Object.keys((a.details as { changed?: object } | null)?.changed ?? {}).join(',');
    expect(audit.map((a) => (a.action === 'ai-config.settings' ? `settings:${changed(a)}` : a.action))).toEqual([
      'settings:providerOrder',
      'ai-config.key.set',
      'settings:dailyBudgetUsd',
      'settings:dailyBudgetUsd',
      'settings:dailyBudgetUsd',
      'settings:allowOperatorKey',
      'settings:piiRedaction',
      'settings:providerOrder',
      'ai-config.key.remove',
      'ai-config.key.remove',
      'ai-config.key.set',
    ]);
    expect(audit.every((a) => a.actor_id === adminId && /^[0-9a-f]{8}$/.test(a.correlation_id ?? ''))).toBe(true);
    expect(audit[2]?.details).toEqual({ changed: { dailyBudgetUsd: { from: null, to: 5 } } });
    expect(JSON.stringify(audit)).not.toContain(GUILD_KEY);
  });
});
