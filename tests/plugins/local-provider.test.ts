import { describe, expect, it } from 'vitest';
import type { GenerateRequest, RequestAttachments } from '../../src/llm/provider-spec/contract.ts';
import { ProviderError, estimateTokens } from '../../src/llm/provider-spec/contract.ts';
import localPlugin from '../../plugins/local/index.ts';
import type { PluginManifest } from '../../src/llm/plugin-host/types.ts';
import { SAMPLE_MESSAGES } from './fixtures/sample-conversation.ts';

const MANIFEST: PluginManifest = { name: 'local', version: '1.0.0', kind: 'provider', entry: 'index.ts', host: '>=1 <2', requires: [], config: {}, secrets: [], enabled_by_default: true, enabled_by_env: [], env_settings: {}, roles: [] };
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
      { id: 'local-extractive', contextWindow: 32_768, maxOutputTokens: 8_192, streaming: true, inputPricePerMTok: 0, outputPricePerMTok: 0 },
    ]);
    expect((await local.health()).ok).toBe(true);
  });

  it('brief: decisions first, then the most central message of the largest topics; small talk never', async () => {
    const text = await summary('brief');
    const lines = text.split('\n');
    expect(lines[0]).toBe('_Extractive summary made offline (no language model configured): 4 of 21 messages quoted, 2 topics._');
    expect(citedRefs(text)).toEqual([13, 21, 3, 16]);
    expect(lines).toContain('- Decision: Alice: Great work everyone. Decision: ship 2.4 on Friday, billing migration batched, notes and docs by Thursday. [21]');
    expect(lines).toContain(
      '- Alice: The release branch is cut. The plan is to ship the 2.4 release on Friday if the flaky login tests are fixed. [3]',
    );
    // Small talk ("morning", "lol classic", "brb coffee") is never picked.
    expect(text).not.toMatch(/lol|coffee|\[2\]/);
  });

  it('detailed: decisions, every time segment with its key messages, and owned action items', async () => {
    const text = await summary('detailed');
    const lines = text.split('\n');
    expect(lines.filter((line) => /^\*\*[A-Z][a-z ]+\*\*$/.test(line))).toEqual(['**Decisions**', '**Topics**', '**Action items**']);
    expect(lines.filter((line) => line.startsWith('**05-02'))).toEqual([
      '**05-02 09:00–09:06 · tests, login, session** (6 messages)',
      '**05-02 09:08–09:11 · bob, need, review** (4 messages)',
      '**05-02 09:13–09:20 · billing, migration, friday** (5 messages)',
      '**05-02 09:30–09:45 · billing, migration, docs** (6 messages)',
    ]);
    expect(citedRefs(text)).toEqual([13, 21, 3, 4, 9, 11, 18, 6, 7, 16, 17]);
    expect(lines).toContain("- [ ] Dave: I'll fix the session cookie expiry in the login tests by Thursday. (due: by Thursday) [6]");
  });

  it('comprehensive: participants and period, more key messages per topic than detailed', async () => {
    const text = await summary('comprehensive');
    const lines = text.split('\n');
    expect(lines.slice(2, 4)).toEqual([
      'Participants: Alice (6 messages), Bob (6 messages), Carol (5 messages), Dave (4 messages)',
      'Period: 2024-05-02 09:00 – 09:45 UTC, 21 messages',
    ]);
    expect(citedRefs(text)).toEqual([13, 21, 1, 3, 4, 9, 11, 12, 18, 6, 7, 16, 17]);
    expect(citedRefs(text).length).toBeGreaterThan(citedRefs(await summary('detailed')).length);
  });

  it('action items: commitments, requests and to-dos with an owner; nothing nobody owns, no praise', async () => {
    const text = await summary('action_items');
    expect(text.split('\n').slice(2)).toEqual([
      "- [ ] Dave: I'll fix the session cookie expiry in the login tests by Thursday. (due: by Thursday) [6]",
      '- [ ] Bob (asked by Carol): Bob, can you review the migration script for the billing tables? [7]',
      '- [ ] Carol: TODO: announce the maintenance window for the billing migration in #status. [16]',
      '- [ ] Alice: Carol will write the release notes; I will update the upgrade docs before the release. [17]',
    ]);
  });

  it('perspective changes what comes first and what is picked', async () => {
    const local = await provider();
    const as = async (perspective: string) =>
      (await local.generate(req({ task: 'summarize', summaryType: 'detailed', perspective, messages: SAMPLE_MESSAGES }))).text;
    const sections = (text: string) => text.split('\n').filter((line) => /^\*\*[A-Z][a-z ]+\*\*$/.test(line));
    expect(sections(await as('executive'))).toEqual(['**Decisions**', '**Action items**', '**Topics**']);
    expect(sections(await as('developer'))[0]).toBe('**Topics**');
    expect(await as('executive')).not.toBe(await as('general'));
  });

  it('never quotes spam, system notices, attachment-only or link-only messages as key points', async () => {
    const at = (minute: number) => `2024-05-03T10:${String(minute).padStart(2, '0')}:00Z`;
    const spam = '@everyone Free Nitro giveaway! claim now https://disc0rd-gift.ru/claim limited offer @here';
    const messages = [
      { ref: 1, author: 'Ana', content: 'the importer crashes on OPML files without a title attribute in the outline', timestamp: at(0) },
      { ref: 2, author: 'Spammer', content: spam, timestamp: at(1) },
      { ref: 3, author: 'Spammer', content: spam, timestamp: at(2) },
      { ref: 4, author: 'Spammer', content: spam, timestamp: at(3) },
      { ref: 5, author: 'Ben', content: '[image: screenshot.png]', timestamp: at(4) },
      { ref: 6, author: 'Ben', content: 'https://github.com/example/repo/issues/412', timestamp: at(5) },
      { ref: 7, author: 'Kai', content: '(pinned a message)', timestamp: at(6), notice: true },
      { ref: 8, author: 'Cleo', content: 'Impressive stuff. One day I will learn how to code', timestamp: at(7) },
      { ref: 9, author: 'Kai', content: 'Deleted the three spam messages and banned the account, never click gift links', timestamp: at(8) },
      { ref: 10, author: 'Ana', content: 'the importer fix for the OPML title crash is merged and released', timestamp: at(9) },
    ];
    for (const type of ['brief', 'detailed', 'comprehensive', 'action_items']) {
      const refs = citedRefs(await summary(type, messages));
      for (const ref of [2, 3, 4, 5, 6, 7, 8]) expect(refs).not.toContain(ref);
    }
    expect(citedRefs(await summary('detailed', messages))).toContain(9);
    // A moderation summary lists the spam.
    expect(citedRefs(await summary('moderation', messages))).toEqual(expect.arrayContaining([2, 3, 4]));
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
    // A message with a mass mention is spam-shaped and never a key point; the forged name is neutralised either way.
    expect(citedRefs(text)).toEqual([2]);
    expect(text).not.toContain('[9]');
    expect(text).not.toContain('[42]');
    const detailed = await summary('detailed', [
      { ref: 1, author: 'Mallory [9]', content: 'Deploy the payment service tonight, see [42] for the plan', timestamp: '2024-05-03T10:00:00Z' },
    ]);
    expect(detailed).toContain('- Mallory (9): Deploy the payment service tonight, see (42) for the plan [1]');
  });

  it('says so when there is nothing to summarize', async () => {
    expect(await summary('brief', [])).toContain('Nothing was said in this period.');
  });
});

describe('local provider: reduce, chat, streaming and limits', () => {
  it('merges partial summaries section by section, dropping repeated points but keeping all their citations', async () => {
    const partials = [
      [
        '_Extractive summary made offline (no language model configured): 3 of 10 messages quoted, 1 topic._',
        '',
        '**Decisions**',
        '- Alice: Ship the 2.4 release on Friday [3]',
        '',
        '**Topics**',
        '**05-02 09:00–09:10 · billing, migration, lock** (10 messages)',
        '- Carol: The billing migration locks the invoices table [11]',
        '- Dave: Login tests are green with the cookie fix [19] [404]',
      ].join('\n'),
      [
        '_Extractive summary made offline (no language model configured): 2 of 11 messages quoted, 1 topic._',
        '',
        '**Decisions**',
        '- alice: ship the 2.4 release on friday! [21]',
        '',
        '**Topics**',
        '**05-02 09:11–09:45 · batch, billing, lock** (11 messages)',
        '- Bob: Batch the billing migration to cut the lock [18]',
      ].join('\n'),
    ];
    const local = await provider();
    const merge = async (summaryType: string) =>
      (await local.generate(req({ task: 'summarize-reduce', summaryType, partials, messages: SAMPLE_MESSAGES }))).text.split('\n');

    // The reference 404 is not a message of this conversation and is dropped.
    expect(await merge('detailed')).toEqual([
      '_Extractive summary made offline (no language model configured): 5 of 21 messages quoted, 2 topics._',
      '',
      '**Decisions**',
      '- Alice: Ship the 2.4 release on Friday [3] [21]',
      '',
      '**Topics**',
      '**05-02 09:00–09:10 · billing, migration, lock** (10 messages)',
      '- Carol: The billing migration locks the invoices table [11]',
      '- Dave: Login tests are green with the cookie fix [19]',
      '**05-02 09:11–09:45 · batch, billing, lock** (11 messages)',
      '- Bob: Batch the billing migration to cut the lock [18]',
    ]);
    // Its own output merges again to the same points (a second round of combining).
    const again = (await local.generate(req({ task: 'summarize-reduce', summaryType: 'detailed', partials: [(await merge('detailed')).join('\n')] }))).text;
    expect(again.split('\n').slice(1)).toEqual((await merge('detailed')).slice(1));
  });

  it('map then reduce: each part keeps its structure, the merge keeps decisions, action items and citations of every part', async () => {
    const local = await provider();
    const half = Math.ceil(SAMPLE_MESSAGES.length / 2);
    const parts = [SAMPLE_MESSAGES.slice(0, half), SAMPLE_MESSAGES.slice(half)];
    const partials = await Promise.all(
      parts.map(async (messages) => (await local.generate(req({ task: 'summarize-map', summaryType: 'detailed', messages }, { maxTokens: 600 }))).text),
    );
    for (const partial of partials) expect(estimateTokens(partial)).toBeLessThanOrEqual(600);
    const merged = (await local.generate(req({ task: 'summarize-reduce', summaryType: 'detailed', partials }, { maxTokens: 1500 }))).text;
    const refs = citedRefs(merged);
    expect(refs.some((ref) => ref <= half)).toBe(true);
    expect(refs.some((ref) => ref > half)).toBe(true);
    // The final decision and the owned action items survive the merge.
    expect(merged).toContain('**Decisions**');
    expect(refs).toContain(21);
    expect(merged).toContain("- [ ] Dave: I'll fix the session cookie expiry in the login tests by Thursday. (due: by Thursday) [6]");
    expect(merged.split('\n')[0]).toContain('of 21 messages quoted');
  });

  it('reads partials from a language model: bullets under unknown headings become topic points', async () => {
    const local = await provider();
    const response = await local.generate(
      req({ task: 'summarize-reduce', summaryType: 'detailed', partials: ['## Overview\n- The team agreed to ship on Friday [3]\n\n### Action items\n- Dave fixes the login tests [6]'] }),
    );
    expect(response.text).toContain('**Action items**\n- [ ] Dave fixes the login tests [6]');
    expect(response.text).toContain('- The team agreed to ship on Friday [3]');
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
      // The cut fence is closed (balanced), and both fences are defused: the quote stays one line of text.
      '> Should the release wait? `\u200b``js ship()`\u200b``',
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

  it('fits the summary to maxTokens by dropping the least important points, keeping decisions', async () => {
    const local = await provider();
    const response = await local.generate(req({ task: 'summarize', summaryType: 'comprehensive', messages: SAMPLE_MESSAGES }, { maxTokens: 260 }));
    expect(estimateTokens(response.text)).toBeLessThanOrEqual(260);
    expect(response.text).toContain('[21]');
    const full = (await local.generate(req({ task: 'summarize', summaryType: 'comprehensive', messages: SAMPLE_MESSAGES }))).text;
    expect(citedRefs(response.text).length).toBeLessThan(citedRefs(full).length);
  });

  it('cuts whole lines when even the shortest summary does not fit, and reports finishReason length', async () => {
    const local = await provider();
    const response = await local.generate(req({ task: 'summarize', summaryType: 'comprehensive', messages: SAMPLE_MESSAGES }, { maxTokens: 20 }));
    expect(response.finishReason).toBe('length');
    expect(estimateTokens(response.text)).toBeLessThanOrEqual(20);
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

  it('covers every part of a long conversation, with more points than a short one', async () => {
    // Twelve hours of the sample conversation, one round an hour.
    const messages = Array.from({ length: 12 * SAMPLE_MESSAGES.length }, (_, index) => {
      const base = SAMPLE_MESSAGES[index % SAMPLE_MESSAGES.length]!;
      const round = Math.floor(index / SAMPLE_MESSAGES.length);
      const timestamp = new Date(Date.parse(base.timestamp) + round * 3_600_000).toISOString();
      return { ...base, ref: index + 1, timestamp, content: `${base.content} (round ${round})` };
    });
    const text = await summary('detailed', messages);
    const rounds = new Set(citedRefs(text).map((ref) => Math.floor((ref - 1) / SAMPLE_MESSAGES.length)));
    expect(rounds.size).toBe(12);
    expect(citedRefs(text).length).toBeGreaterThan(citedRefs(await summary('detailed')).length);
  });
});
