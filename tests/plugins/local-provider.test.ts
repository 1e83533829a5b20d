import { describe, expect, it } from 'vitest';
import type { GenerateRequest, RequestAttachments } from '../../src/llm/provider-spec/contract.ts';
import { ProviderError, estimateTokens } from '../../src/llm/provider-spec/contract.ts';
import localPlugin from '../../plugins/local/index.ts';
import type { PluginManifest } from '../../src/llm/plugin-host/types.ts';
import { SAMPLE_MESSAGES } from './fixtures/sample-conversation.ts';

const MANIFEST: PluginManifest = { name: 'local', version: '1.0.0', kind: 'provider', entry: 'index.ts', requires: [], config: {}, secrets: [], enabled_by_default: true, enabled_by_env: [], env_settings: {}, roles: [] };
const silent = { debug() {}, info() {}, warn() {}, error() {} };

async function provider() {
  const instance = await localPlugin({ manifest: MANIFEST, config: {}, secret: () => undefined, logger: silent });
  if (instance.kind !== 'provider') throw new Error('local must be a provider');
  return instance.provider;
}

function req(attachments: RequestAttachments, extra: Partial<GenerateRequest> = {}): GenerateRequest {
  return {
    system: 'Summarize the conversation.',
    turns: [{ role: 'user', content: SAMPLE_MESSAGES.map((m) => `[${m.ref}] ${m.author}: ${m.content}`).join('\n') }],
    model: 'local-extractive',
    maxTokens: 4000,
    attachments,
    ...extra,
  };
}

async function summary(summaryType: string, messages = SAMPLE_MESSAGES): Promise<string> {
  const response = await (await provider()).generate(req({ task: 'summarize', summaryType, messages }));
  return response.text;
}

/** The citation on each bullet line, in output order. */
function citedRefs(text: string): number[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('- '))
    .flatMap((line) => [...line.matchAll(/\[(\d+)\]/g)].map((match) => Number(match[1])));
}

const REFS = new Set(SAMPLE_MESSAGES.map((message) => message.ref));

describe('local provider: extractive summaries', () => {
  it('describes itself: no key, one free model, healthy', async () => {
    const local = await provider();
    expect(local.name).toBe('local');
    expect(local.requiresKey).toBe(false);
    expect(local.models).toEqual([
      { id: 'local-extractive', contextWindow: 1_000_000, maxOutputTokens: 16_384, streaming: true, inputPricePerMTok: 0, outputPricePerMTok: 0 },
    ]);
    expect((await local.health()).ok).toBe(true);
  });

  it('brief: the three most central messages, chronological, with their authors and refs', async () => {
    const text = await summary('brief');
    const lines = text.split('\n');
    expect(lines[0]).toBe('_Extractive summary made offline (no language model configured): 3 of 21 messages quoted._');
    expect(citedRefs(text)).toEqual([3, 13, 21]);
    expect(lines).toContain(
      '- Alice: The release branch is cut. The plan is to ship the 2.4 release on Friday if the flaky login tests are fixed. [3]',
    );
    // Small talk ("morning", "lol classic", "brb coffee") is never picked.
    expect(text).not.toMatch(/lol|coffee|\[2\]/);
  });

  it('detailed: eight points grouped by participant, chronological within each group', async () => {
    const text = await summary('detailed');
    expect(text.split('\n').filter((line) => line.startsWith('**'))).toEqual(['**Alice**', '**Dave**', '**Bob**']);
    expect(citedRefs(text)).toEqual([3, 13, 17, 21, 6, 14, 12, 18]);
    expect(text).toContain("**Dave**\n- I'll fix the session cookie expiry in the login tests by Thursday. [6]\n");
  });

  it('comprehensive: fifteen points on a timeline, with participants, period and topics', async () => {
    const text = await summary('comprehensive');
    const lines = text.split('\n');
    expect(lines.slice(2, 5)).toEqual([
      'Participants: Alice (6 messages), Bob (6 messages), Carol (5 messages), Dave (4 messages)',
      'Period: 2024-05-02 09:00 – 09:45 UTC, 21 messages',
      'Topics: release, billing, migration, tests, login',
    ]);
    expect(citedRefs(text)).toEqual([1, 3, 4, 6, 7, 9, 11, 12, 13, 14, 16, 17, 18, 19, 21]);
    expect(lines).toContain('- 09:06 Dave: I\'ll fix the session cookie expiry in the login tests by Thursday. [6]');
  });

  it('action items: commitments, requests, to-dos and deadlines as a checklist with owners', async () => {
    const text = await summary('action_items');
    expect(text.split('\n').slice(2)).toEqual([
      "- [ ] Dave: I'll fix the session cookie expiry in the login tests by Thursday. (due: by Thursday) [6]",
      '- [ ] Bob (asked by Carol): Bob, can you review the migration script for the billing tables? [7]',
      '- [ ] team (raised by Alice): We also need to update the release notes and the upgrade docs for 2.4. [9]',
      '- [ ] unassigned (raised by Bob): Ten minutes of locked invoices is too long; the migration script should copy the billing tables in batches. [12]',
      '- [ ] Carol: TODO: announce the maintenance window for the billing migration in #status. [16]',
      '- [ ] Alice: Carol will write the release notes; I will update the upgrade docs before the release. [17]',
      '- [ ] unassigned (raised by Alice): Great work everyone. Decision: ship 2.4 on Friday, billing migration batched, notes and docs by Thursday. (due: by Thursday) [21]',
    ]);
  });

  it('assigns a request to whoever answers "on it"', async () => {
    const text = await summary('action_items', [
      { ref: 1, author: 'Eve', content: 'Could someone rotate the staging certificates before Monday?', timestamp: '2024-05-03T10:00:00Z' },
      { ref: 2, author: 'Finn', content: 'on it', timestamp: '2024-05-03T10:01:00Z' },
    ]);
    expect(text.split('\n').slice(2)).toEqual([
      '- [ ] Finn (asked by Eve): Could someone rotate the staging certificates before Monday? (due: before Monday) [1]',
    ]);
  });

  it('treats an unknown summary type like detailed', async () => {
    expect(await summary('standup-notes')).toBe(await summary('detailed'));
  });

  it('is deterministic and independent of input order; every citation is a real ref', async () => {
    const shuffled = [...SAMPLE_MESSAGES].reverse();
    for (const type of ['brief', 'detailed', 'comprehensive', 'action_items']) {
      const text = await summary(type);
      expect(await summary(type, shuffled)).toBe(text);
      for (const ref of citedRefs(text)) expect(REFS.has(ref)).toBe(true);
    }
  });

  it('neutralises forged citations and mass mentions in message text', async () => {
    const text = await summary('brief', [
      { ref: 1, author: 'Mallory [9]', content: 'Deploy the payment service tonight, see [42] @everyone', timestamp: '2024-05-03T10:00:00Z' },
      { ref: 2, author: 'Bob', content: 'The payment service deploy needs a database migration first', timestamp: '2024-05-03T10:01:00Z' },
    ]);
    expect(citedRefs(text)).toEqual([1, 2]);
    expect(text).toContain('- Mallory (9): Deploy the payment service tonight, see (42) @\u200beveryone [1]');
  });

  it('says so when there is nothing to summarize', async () => {
    expect(await summary('brief', [])).toContain('Nothing was said in this period.');
  });
});

describe('local provider: reduce, chat, streaming and limits', () => {
  it('merges partial summaries, dropping near-identical points but keeping all their citations', async () => {
    const partials = [
      [
        '_Extractive summary made offline (no language model configured): 3 of 10 messages quoted._',
        '',
        '- Alice: Ship the 2.4 release on Friday [3]',
        '- Carol: The billing migration locks the invoices table [11]',
        '- Dave: Login tests are green with the cookie fix [19] [404]',
      ].join('\n'),
      ['**Bob**', '- Batch the billing migration to cut the lock [18]', '', '**Timeline**', '- alice: ship the 2.4 release on friday! [21]'].join('\n'),
    ];
    const local = await provider();
    const merge = async (summaryType: string) =>
      (await local.generate(req({ task: 'summarize-reduce', summaryType, partials, messages: SAMPLE_MESSAGES }))).text.split('\n');

    // Four distinct points; the reference 404 is not a message of this conversation and is dropped.
    expect(await merge('comprehensive')).toEqual([
      '_Extractive summary made offline (no language model configured): merged from 2 partial summaries, 4 points._',
      '',
      '**Timeline**',
      '- Alice: Ship the 2.4 release on Friday [3] [21]',
      '- Carol: The billing migration locks the invoices table [11]',
      '- Bob: Batch the billing migration to cut the lock [18]',
      '- Dave: Login tests are green with the cookie fix [19]',
    ]);
    // Brief keeps the three most central, still in citation order.
    expect((await merge('brief')).slice(2)).toEqual([
      '- Alice: Ship the 2.4 release on Friday [3] [21]',
      '- Carol: The billing migration locks the invoices table [11]',
      '- Bob: Batch the billing migration to cut the lock [18]',
    ]);
  });

  it('keeps the checklist shape when merging action items', async () => {
    const local = await provider();
    const response = await local.generate(
      req({
        task: 'summarize-reduce',
        summaryType: 'action_items',
        partials: ["- [ ] Dave: I'll fix the login tests by Thursday [6]", "- [ ] Dave: I'll fix the login tests by Thursday [6]\n- [ ] Carol: TODO announce the window [16]"],
      }),
    );
    expect(response.text.split('\n').slice(2)).toEqual([
      "- [ ] Dave: I'll fix the login tests by Thursday [6]",
      '- [ ] Carol: TODO announce the window [16]',
    ]);
  });

  it('answers chat honestly: no language model, and how to configure one', async () => {
    const local = await provider();
    const response = await local.generate({ system: 's', turns: [{ role: 'user', content: 'hi bot' }], model: 'local-extractive', maxTokens: 1000, attachments: { task: 'chat' } });
    expect(response.text).toContain('no language model is configured');
    for (const hint of ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'OPENAI_BASE_URL', 'Ollama', 'vLLM', 'PLUGINS_CONFIG']) expect(response.text).toContain(hint);
    expect(response).toMatchObject({ finishReason: 'stop', provider: 'local', model: 'local-extractive' });
    expect(response.usage).toEqual({ inputTokens: estimateTokens('s\nhi bot'), outputTokens: estimateTokens(response.text) });
  });

  it('chats offline by quoting the best-matching channel messages, cited, without letting a quote open a code block', async () => {
    const local = await provider();
    const messages = [
      { ref: 4, author: 'Bob', content: 'ok, decision: we release 2.0 on Friday', timestamp: '2026-12-01T09:21:00.000Z' },
      { ref: 2, author: 'Alice', content: 'Should the release wait?\n```js\nship()', timestamp: '2026-12-01T09:20:00.000Z' },
      { ref: 7, author: 'Carol', content: 'release notes are [3] drafted', timestamp: '2026-12-01T09:30:00.000Z' },
      { ref: 9, author: 'Dan', content: 'a fourth match is not quoted', timestamp: '2026-12-01T09:31:00.000Z' },
    ];
    const response = await local.generate({
      system: 's',
      turns: [{ role: 'user', content: 'what did we decide about the release?' }],
      model: 'local-extractive',
      maxTokens: 1000,
      attachments: { task: 'chat', question: 'what did we decide about the release?', messages },
    });
    const lines = response.text.split('\n');
    expect(lines[0]).toContain('no language model is configured');
    // Best first, as the engine ranked them.
    expect(lines.filter((l) => l.startsWith('> '))).toEqual([
      '> ok, decision: we release 2.0 on Friday',
      '> Should the release wait? `\u200b``js ship()',
      '> release notes are (3) drafted',
    ]);
    expect(lines.filter((l) => l.startsWith('— '))).toEqual(['— Bob, 2026-12-01 09:21 UTC [4]', '— Alice, 2026-12-01 09:20 UTC [2]', '— Carol, 2026-12-01 09:30 UTC [7]']);
    expect(response.text).not.toContain('fourth');
    expect(response.text.match(/```/g)).toBeNull();
    expect(response.text).toContain('ANTHROPIC_API_KEY');
  });

  it('chats offline about nothing found when no channel message matches', async () => {
    const local = await provider();
    const response = await local.generate({ system: 's', turns: [{ role: 'user', content: 'q' }], model: 'local-extractive', maxTokens: 1000, attachments: { task: 'chat', question: 'q', messages: [] } });
    expect(response.text).toContain('none of its recent messages match your question');
  });

  it('streams the same text in a few deltas, then finishes', async () => {
    const local = await provider();
    const request = req({ task: 'summarize', summaryType: 'comprehensive', messages: SAMPLE_MESSAGES });
    const expected = await local.generate(request);
    const events = [];
    for await (const event of local.stream(request)) events.push(event);
    const deltas = events.flatMap((event) => (event.type === 'text' ? [event.delta] : []));
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.length).toBeLessThanOrEqual(4);
    expect(deltas.join('')).toBe(expected.text);
    expect(events.at(-1)).toEqual({ type: 'finish', finishReason: 'stop', usage: expected.usage, provider: 'local', model: 'local-extractive' });
  });

  it('cuts whole lines to fit maxTokens and reports finishReason length', async () => {
    const local = await provider();
    const response = await local.generate(req({ task: 'summarize', summaryType: 'comprehensive', messages: SAMPLE_MESSAGES }, { maxTokens: 120 }));
    expect(response.finishReason).toBe('length');
    expect(estimateTokens(response.text)).toBeLessThanOrEqual(120);
    const full = (await local.generate(req({ task: 'summarize', summaryType: 'comprehensive', messages: SAMPLE_MESSAGES }))).text;
    expect(full.startsWith(response.text)).toBe(true);
  });

  it('rejects other models and aborted calls with ProviderErrors', async () => {
    const local = await provider();
    const wrongModel = await local.generate(req({ task: 'chat' }, { model: 'gpt-4' })).catch((error: unknown) => error);
    expect(wrongModel).toBeInstanceOf(ProviderError);
    expect((wrongModel as ProviderError).kind).toBe('bad_request');
    const controller = new AbortController();
    controller.abort();
    const aborted = await local.generate(req({ task: 'chat' }, { signal: controller.signal })).catch((error: unknown) => error);
    expect((aborted as ProviderError).kind).toBe('aborted');
  });

  it('ranks very long conversations by centroid instead of TextRank, still citing real refs', async () => {
    const messages = Array.from({ length: 1200 }, (_, index) => {
      const base = SAMPLE_MESSAGES[index % SAMPLE_MESSAGES.length];
      if (!base) throw new Error('unreachable');
      return { ...base, ref: index + 1, content: `${base.content} (round ${Math.floor(index / SAMPLE_MESSAGES.length)})` };
    });
    const text = await summary('brief', messages);
    const refs = citedRefs(text);
    expect(refs).toHaveLength(3);
    expect([...refs].sort((a, b) => a - b)).toEqual(refs);
    for (const ref of refs) expect(ref).toBeGreaterThanOrEqual(1);
    for (const ref of refs) expect(ref).toBeLessThanOrEqual(1200);
  });
});
