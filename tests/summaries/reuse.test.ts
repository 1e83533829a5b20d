/**
 * When a stored summary is served again: only for the same conversation as
 * sent (an edit, a deletion or a changed attachment asks again) and only when
 * it came from the provider that would answer now (a fallback's summary made
 * during an outage is replaced once the preferred provider is back). Real
 * LLM service, real Anthropic SDK against the emulator, real databases.
 */
import type { Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Message } from '../../src/conversation/model.ts';
import { prepareConversation } from '../../src/conversation/prepare.ts';
import type { Database } from '../../src/db/schema.ts';
import { judgeReuse, preferFirst } from '../../src/summaries/reuse-policy.ts';
import { KyselySummaryStore } from '../../src/summaries/store.ts';
import { createSummarizer, type Summarizer } from '../../src/summaries/summarize.ts';
import type { SummarizeOptions } from '../../src/summaries/types.ts';
import type { PromptResolver } from '../../src/prompts/resolver.ts';
import { start as startAnthropic, type AnthropicEmulator } from '../emulators/anthropic/server.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { createVault, startService, type TestService } from '../llm/support.ts';
import { systemClock } from '../../src/resilience/clock.ts';
import { CHANNEL, EchoProvider, GUILD, bundledResolver, conversationOf, longConversation, messageAt, quietLogger, testRouter } from './support.ts';

const OPERATOR_KEY = 'sk-ant-operator-reuse-0123456789';

const PLUGINS = `
router:
  tasks:
    summarize: [anthropic/claude-sonnet-4-6, local/local-extractive]
    summarize-map: [anthropic/claude-sonnet-4-6, local/local-extractive]
    chat: [anthropic/claude-sonnet-4-6, local/local-extractive]
  retry: { max_rounds: 0, base_ms: 10, max_ms: 20 }
  breaker: { failure_threshold: 1, failure_window_ms: 60000, cool_down_ms: 30000 }
plugins:
  anthropic:
    config: { base_url: "\${ANTHROPIC_BASE_URL}", timeout_ms: 5000 }
  local: { enabled: true }
  pii-redactor: { enabled: false }
`;

let seq = 0;
function request(): SummarizeOptions {
  return { guildId: GUILD, guildName: 'Test Guild', channelId: CHANNEL, channelName: 'dev-chat', type: 'brief', correlationId: `reuse-${++seq}` };
}

function thread(tag: string): Message[] {
  return [
    messageAt(1, `${tag}: is the release ready?`),
    messageAt(2, `${tag}: tests are green, shipping friday`),
    messageAt(3, `${tag}: the rollback plan is in the doc`),
    messageAt(4, `${tag}: great, thanks`),
  ];
}

describeEachDatabase('summary reuse', (database) => {
  let anthropic: AnthropicEmulator;
  let db: Kysely<Database>;
  let resolver: PromptResolver;
  let t: TestService;
  let engine: Summarizer;
  const completions = () => anthropic.completions().length;

  beforeAll(async () => {
    anthropic = await startAnthropic({ keys: { operator: OPERATOR_KEY } });
    db = database().handle.db;
    resolver = await bundledResolver(db);
  });
  afterAll(async () => {
    await anthropic.close();
  });
  beforeEach(async () => {
    anthropic.faults.reset();
    t = await startService({
      db,
      vault: await createVault(db),
      env: { ANTHROPIC_API_KEY: OPERATOR_KEY, ANTHROPIC_BASE_URL: anthropic.baseUrl, LLM_USER_RATE_PER_MIN: '0', LLM_GUILD_RATE_PER_MIN: '0' },
      config: PLUGINS,
    });
    engine = createSummarizer({
      resolver,
      router: t.service.router,
      contextWindowFor: (task, guildId) => t.service.contextWindowFor(task, guildId),
      store: new KyselySummaryStore(db),
      standing: (task, guildId) => t.service.targetStanding(task, guildId),
      clock: t.clock,
      logger: quietLogger,
    });
  });
  afterEach(async () => {
    await t.close();
  });

  it('serves an identical request from storage with no provider call', async () => {
    const messages = thread('identical');
    const first = await engine.summarize(prepareConversation(conversationOf(messages)), request());
    expect(first).toMatchObject({ reused: false, provider: 'anthropic' });
    const calls = completions();

    const again = await engine.summarize(prepareConversation(conversationOf(thread('identical'))), request());

    expect(again).toMatchObject({ reused: true, provider: 'anthropic', text: first.text, summaryId: first.summaryId });
    expect(again.usage).toEqual({ inputTokens: 0, outputTokens: 0 });
    expect(completions()).toBe(calls);
  });

  it('asks again when a message was edited since, and the new summary has the new text', async () => {
    const messages = thread('edited');
    await engine.summarize(prepareConversation(conversationOf(messages)), request());
    const calls = completions();

    const edited = messages.map((m, i) => (i === 1 ? { ...m, content: 'edited: tests are RED, the release slips', editedTimestamp: m.timestamp + 5_000 } : m));
    const result = await engine.summarize(prepareConversation(conversationOf(edited)), request());

    expect(result.reused).toBe(false);
    expect(completions()).toBe(calls + 1);
    // What the model was sent is the edited text, not the stored one.
    expect(JSON.stringify(anthropic.completions().at(-1))).toContain('tests are RED');
  });

  it('asks again when a message was deleted since (same first and last message)', async () => {
    const messages = thread('deleted');
    await engine.summarize(prepareConversation(conversationOf(messages)), request());
    const calls = completions();

    const result = await engine.summarize(prepareConversation(conversationOf(messages.filter((_, i) => i !== 2))), request());

    expect(result.reused).toBe(false);
    expect(result.messages).toBe(3);
    expect(completions()).toBe(calls + 1);
    expect(JSON.stringify(anthropic.completions().at(-1))).not.toContain('rollback plan');
  });

  it('asks again when only a message\'s attachments changed', async () => {
    const messages = thread('attached');
    await engine.summarize(prepareConversation(conversationOf(messages)), request());
    const calls = completions();

    const attached = messages.map((m, i) => (i === 2 ? { ...m, attachments: [{ fileName: 'rollback-v2.pdf' }] } : m));
    const result = await engine.summarize(prepareConversation(conversationOf(attached)), request());

    expect(result.reused).toBe(false);
    expect(completions()).toBe(calls + 1);
  });

  it('serves a fallback\'s summary only while the preferred provider is down, then replaces it with the preferred one\'s', async () => {
    const messages = thread('outage');
    const prepared = () => prepareConversation(conversationOf(messages));
    // The outage: every Anthropic completion fails with a 500.
    anthropic.faults.setDefault({ type: 'server_error' });
    let calls = completions();

    const during = await engine.summarize(prepared(), request());
    expect(during).toMatchObject({ reused: false, provider: 'local' });
    expect(completions()).toBe(calls + 1);
    expect(t.service.targetStanding('summarize', GUILD).map((s) => [s.provider, s.callable])).toEqual([
      ['anthropic', false],
      ['local', true],
    ]);

    // Still down (the breaker is open): the fallback's summary is the best there is, and is served.
    calls = completions();
    const stillDown = await engine.summarize(prepared(), request());
    expect(stillDown).toMatchObject({ reused: true, provider: 'local', summaryId: during.summaryId });
    expect(completions()).toBe(calls);

    // Anthropic recovers; after the breaker's cool-down a request may reach it again.
    anthropic.faults.reset();
    t.clock.advance(30_001);
    calls = completions();
    const recovered = await engine.summarize(prepared(), request());
    expect(recovered).toMatchObject({ reused: false, provider: 'anthropic' });
    expect(completions()).toBe(calls + 1);

    // The preferred answer took the fallback's place: served from storage from now on.
    calls = completions();
    const after = await engine.summarize(prepared(), request());
    expect(after).toMatchObject({ reused: true, provider: 'anthropic', text: recovered.text });
    expect(completions()).toBe(calls);
    // One row for the request, now holding the preferred provider's answer.
    expect(recovered.summaryId).toBe(during.summaryId);
    const rows = await db.selectFrom('summaries').select(['provider', 'text']).where('id', '=', during.summaryId!).execute();
    expect(rows).toEqual([{ provider: 'anthropic', text: recovered.text }]);
  });
});

describeEachDatabase('partial summaries made by a fallback', (database) => {
  it('are made again by the preferred provider once it can answer, and then reused', async () => {
    const db = database().handle.db;
    const preferred = new EchoProvider('echo', 'echo-small', 3_000).failAfter(0);
    const fallback = new EchoProvider('spare', 'spare-small', 3_000);
    const routing = testRouter([preferred, fallback], [
      { provider: 'echo', model: 'echo-small' },
      { provider: 'spare', model: 'spare-small' },
    ]);
    // The service's standing is exercised above; here the outage is stated directly.
    let preferredUp = false;
    const engine = createSummarizer({
      resolver: await bundledResolver(db),
      router: routing.router,
      contextWindowFor: routing.contextWindowFor,
      store: new KyselySummaryStore(db),
      standing: () => [
        { provider: 'echo', model: 'echo-small', callable: preferredUp },
        { provider: 'spare', model: 'spare-small', callable: true },
      ],
      clock: systemClock,
      logger: quietLogger,
    });
    const prepared = () => prepareConversation(longConversation(120, 200));

    const during = await engine.summarize(prepared(), request());
    expect(during).toMatchObject({ provider: 'spare', reused: false });
    const parts = fallback.callsFor('summarize-map').length;
    expect(parts).toBeGreaterThan(1);

    // The preferred provider was tried (and failed) for each part during the outage.
    const triedDuring = preferred.callsFor('summarize-map').length;
    preferred.heal();
    preferredUp = true;
    const recovered = await engine.summarize(prepared(), request());
    expect(recovered).toMatchObject({ provider: 'echo', reused: false, chunks: during.chunks });
    // Every part made again by the preferred provider: none of the fallback's partials were reused.
    expect(preferred.callsFor('summarize-map')).toHaveLength(triedDuring + parts);
    expect(fallback.callsFor('summarize-map')).toHaveLength(parts);

    const calls = preferred.calls.length + fallback.calls.length;
    expect(await engine.summarize(prepared(), request())).toMatchObject({ provider: 'echo', reused: true });
    expect(preferred.calls.length + fallback.calls.length).toBe(calls);
  });
});

describe('reuse policy', () => {
  const plan = (callable: boolean[]) =>
    [
      { provider: 'anthropic', model: 'claude-sonnet-4-6' },
      { provider: 'openai-compatible', model: 'gpt-4o-mini' },
      { provider: 'local', model: 'local-extractive' },
    ].map((t, i) => ({ ...t, callable: callable[i]! }));

  it('reuses an answer from the best callable target or a better one', () => {
    expect(judgeReuse({ provider: 'anthropic', model: 'claude-sonnet-4-6' }, plan([true, true, true]))).toEqual({ reuse: true });
    expect(judgeReuse({ provider: 'anthropic', model: 'claude-sonnet-4-6' }, plan([false, true, true]))).toEqual({ reuse: true });
    expect(judgeReuse({ provider: 'openai-compatible', model: 'gpt-4o-mini' }, plan([false, true, true]))).toEqual({ reuse: true });
    // A dated model id from the provider still ranks as that provider's target.
    expect(judgeReuse({ provider: 'anthropic', model: 'claude-sonnet-4-6-20250101' }, plan([true, true, true]))).toEqual({ reuse: true });
  });

  it('asks again when a preferred target is callable, or the answering one left the plan', () => {
    expect(judgeReuse({ provider: 'local', model: 'local-extractive' }, plan([false, true, true]))).toMatchObject({ reuse: false });
    expect(judgeReuse({ provider: 'local', model: 'local-extractive' }, plan([true, false, false]))).toMatchObject({ reuse: false });
    expect(judgeReuse({ provider: 'ollama', model: 'llama3' }, plan([true, true, true]))).toMatchObject({ reuse: false });
  });

  it('ranks the target a prompt asks for first, as the router tries it first', () => {
    const askedFor = preferFirst(plan([true, true, true]), { provider: 'openai-compatible' });
    expect(askedFor.map((t) => t.provider)).toEqual(['openai-compatible', 'anthropic', 'local']);
    expect(judgeReuse({ provider: 'openai-compatible', model: 'gpt-4o-mini' }, askedFor)).toEqual({ reuse: true });
    expect(judgeReuse({ provider: 'anthropic', model: 'claude-sonnet-4-6' }, askedFor)).toMatchObject({ reuse: false });
    expect(preferFirst(plan([true, true, true]), {})).toEqual(plan([true, true, true]));
  });

  it('serves whatever is stored when nothing can answer now', () => {
    expect(judgeReuse({ provider: 'local', model: 'local-extractive' }, plan([false, false, false]))).toEqual({ reuse: true });
  });
});
