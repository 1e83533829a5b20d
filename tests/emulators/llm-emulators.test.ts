/**
 * The LLM emulators themselves: wire format, keys, recording, the fault
 * script. Raw fetch where the bytes matter; the real Anthropic SDK's
 * `messages.stream()` helper where the full event sequence must satisfy it.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as anthropicEmulator from './anthropic/server.ts';
import * as openaiEmulator from './openai/server.ts';
import { composeAnswer, FaultScript, splitIntoDeltas, type CompletionCall } from './llm-faults.ts';

const KEY = 'sk-emulator-test-key-42';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
});

async function startAnthropic(options: anthropicEmulator.AnthropicEmulatorOptions = { keys: { main: KEY } }) {
  const emu = await anthropicEmulator.start(options);
  open.push(emu);
  return emu;
}

async function startOpenAI(options: openaiEmulator.OpenAIEmulatorOptions = { keys: { main: KEY } }) {
  const emu = await openaiEmulator.start(options);
  open.push(emu);
  return emu;
}

const messagesBody = (over: Record<string, unknown> = {}) => ({
  model: 'claude-haiku-4-5',
  max_tokens: 100,
  system: 'Summarize the channel.\nSecond line is ignored.',
  messages: [{ role: 'user', content: 'hello there' }],
  ...over,
});

function postMessages(baseUrl: string, body: unknown, headers: Record<string, string> = { 'x-api-key': KEY }) {
  return fetch(`${baseUrl}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers },
    body: JSON.stringify(body),
  });
}

/** Response bodies in these tests are whatever the emulator wrote; assertions check their shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (res: Response): Promise<any> => res.json();

/** Splits an SSE body into [event, parsed data] pairs. */
function frames(text: string): Array<[string | undefined, unknown]> {
  return text
    .split('\n\n')
    .filter((f) => f.trim())
    .map((f) => {
      const event = /^event: (.*)$/m.exec(f)?.[1];
      const data = /^data: (.*)$/m.exec(f)?.[1] ?? '';
      return [event, data === '[DONE]' ? data : JSON.parse(data)];
    });
}

describe('Anthropic emulator', () => {
  it('streams the full Messages event sequence, ping included', async () => {
    const emu = await startAnthropic();
    const res = await postMessages(emu.baseUrl, messagesBody({ stream: true }));
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const seq = frames(await res.text());
    const names = seq.map(([e]) => e);
    expect(names.slice(0, 3)).toEqual(['message_start', 'content_block_start', 'ping']);
    expect(names.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    const deltas = seq.filter(([e]) => e === 'content_block_delta');
    expect(deltas.length).toBe(names.length - 6);
    for (const [event, data] of seq) expect((data as { type: string }).type).toBe(event);
    const text = deltas.map(([, d]) => (d as { delta: { text: string } }).delta.text).join('');
    expect(text).toBe('Echo of "Summarize the channel." after 1 user turn.');
    expect(seq.at(-2)?.[1]).toMatchObject({
      delta: { stop_reason: 'end_turn' },
      usage: { output_tokens: Math.ceil(text.length / 4) },
    });
  });

  it("satisfies the SDK's stream helper and finalMessage(), with Bearer auth", async () => {
    const emu = await startAnthropic();
    const client = new Anthropic({ apiKey: KEY, baseURL: emu.baseUrl, maxRetries: 0 });
    const stream = client.messages.stream({
      model: 'claude-haiku-4-5',
      max_tokens: 100,
      system: 'Summarize the channel.\nSecond line is ignored.',
      messages: [{ role: 'user', content: 'hello there' }],
    });
    const seen: string[] = [];
    stream.on('text', (delta) => seen.push(delta));
    const message = await stream.finalMessage();
    expect(seen.length).toBeGreaterThan(1);
    expect(message.content).toMatchObject([{ type: 'text', text: seen.join('') }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.input_tokens).toBe(Math.ceil('Summarize the channel.\nSecond line is ignored.'.length / 4) + 3);
    expect(emu.completions()[0]?.headers.authorization).toBeUndefined();
    expect(emu.completions()[0]?.authPresent).toBe(true);
  });

  it('answers non-streaming calls deterministically, with stop sequences and the token cap applied', async () => {
    const emu = await startAnthropic();
    const a = await json(await postMessages(emu.baseUrl, messagesBody()));
    const b = await json(await postMessages(emu.baseUrl, messagesBody()));
    expect({ ...a, id: '' }).toEqual({ ...b, id: '' });
    const stopped = await json(await postMessages(emu.baseUrl, messagesBody({ stop_sequences: [' after'] })));
    expect(stopped).toMatchObject({
      content: [{ type: 'text', text: 'Echo of "Summarize the channel."' }],
      stop_reason: 'stop_sequence',
      stop_sequence: ' after',
    });
    const capped = await json(await postMessages(emu.baseUrl, messagesBody({ max_tokens: 2 })));
    expect(capped).toMatchObject({ content: [{ text: 'Echo of ' }], stop_reason: 'max_tokens', usage: { output_tokens: 2 } });
  });

  it('uses a programmable responder', async () => {
    const emu = await startAnthropic({ keys: null, responder: (call) => `${call.model}:${call.messages.length}` });
    const body = await json(await postMessages(emu.baseUrl, messagesBody(), {}));
    expect(body.content[0].text).toBe('claude-haiku-4-5:1');
  });

  it('rejects unknown keys with authentication_error and records only that a key was present', async () => {
    const emu = await startAnthropic();
    const wrong = await postMessages(emu.baseUrl, messagesBody(), { 'x-api-key': 'sk-wrong' });
    expect(wrong.status).toBe(401);
    expect(await json(wrong)).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const none = await postMessages(emu.baseUrl, messagesBody(), {});
    expect(none.status).toBe(401);
    const bearer = await postMessages(emu.baseUrl, messagesBody(), { authorization: `Bearer ${KEY}` });
    expect(bearer.status).toBe(200);
    expect(emu.requests.map((r) => [r.authPresent, r.keyLabel])).toEqual([
      [true, undefined],
      [false, undefined],
      [true, 'main'],
    ]);
    expect(JSON.stringify(emu.requests)).not.toContain(KEY);
    expect(JSON.stringify(emu.requests)).not.toContain('sk-wrong');
  });

  it('validates like the API: anthropic-version, body fields, known models', async () => {
    const emu = await startAnthropic();
    const noVersion = await fetch(`${emu.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify(messagesBody()),
    });
    expect(noVersion.status).toBe(400);
    const noMessages = await postMessages(emu.baseUrl, messagesBody({ messages: [] }));
    expect((await json(noMessages)).error.message).toMatch(/messages/);
    const unknownModel = await postMessages(emu.baseUrl, messagesBody({ model: 'claude-0' }));
    expect(unknownModel.status).toBe(404);
  });

  it('lists models for health checks', async () => {
    const emu = await startAnthropic();
    const res = await fetch(`${emu.baseUrl}/v1/models?limit=2`, { headers: { 'x-api-key': KEY } });
    expect(await json(res)).toMatchObject({
      data: [{ type: 'model', id: 'claude-sonnet-4-6' }, { type: 'model', id: 'claude-haiku-4-5' }],
      has_more: true,
    });
    expect(emu.completions()).toHaveLength(0);
  });

  it('plays scripted faults in order, then the default', async () => {
    const emu = await startAnthropic();
    emu.faults.enqueue({ type: 'rate_limited', retryAfterSeconds: 9 }, { type: 'overloaded' }, { type: 'context_length', maxTokens: 10 });
    const limited = await postMessages(emu.baseUrl, messagesBody());
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('9');
    const overloaded = await postMessages(emu.baseUrl, messagesBody());
    expect(overloaded.status).toBe(529);
    expect(await json(overloaded)).toMatchObject({ error: { type: 'overloaded_error' } });
    const tooLong = await postMessages(emu.baseUrl, messagesBody());
    expect((await json(tooLong)).error.message).toMatch(/^prompt is too long: \d+ tokens > 10 maximum$/);
    expect((await postMessages(emu.baseUrl, messagesBody())).status).toBe(200);
    expect(emu.faults.pending).toBe(0);
  });

  it('refuses prompts above its context window without scripting', async () => {
    const emu = await startAnthropic({ keys: { main: KEY }, contextWindow: 5 });
    const res = await postMessages(emu.baseUrl, messagesBody());
    expect(res.status).toBe(400);
    expect((await json(res)).error.message).toMatch(/^prompt is too long: \d+ tokens > 5 maximum$/);
  });

  it('cuts a stream after the given deltas', async () => {
    const emu = await startAnthropic();
    emu.faults.enqueue({ type: 'cut_stream', afterDeltas: 1 });
    const res = await postMessages(emu.baseUrl, messagesBody({ stream: true }));
    const reader = res.body!.getReader();
    let text = '';
    const decoder = new TextDecoder();
    const error = await (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return undefined;
        text += decoder.decode(value, { stream: true });
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(text.match(/event: content_block_delta/g)).toHaveLength(1);
    expect(text).not.toContain('message_stop');
  });

  it('holds a hung request until the client aborts, and records the interruption', async () => {
    const emu = await startAnthropic();
    emu.faults.enqueue({ type: 'hang' });
    const controller = new AbortController();
    const pending = fetch(`${emu.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify(messagesBody()),
      signal: controller.signal,
    });
    await vi.waitFor(() => expect(emu.completions()).toHaveLength(1));
    controller.abort();
    await expect(pending).rejects.toThrow();
    await vi.waitFor(() => expect(emu.completions()[0]?.interrupted).toBe(true));
  });

  it('closes promptly even with a request hanging', async () => {
    const emu = await anthropicEmulator.start({ keys: null });
    emu.faults.setDefault({ type: 'hang' });
    const pending = postMessages(emu.baseUrl, messagesBody(), {}).then(
      () => 'answered',
      () => 'connection closed',
    );
    await vi.waitFor(() => expect(emu.completions()).toHaveLength(1));
    await emu.close();
    expect(await pending).toBe('connection closed');
  });
});

describe('OpenAI emulator', () => {
  const chatBody = (over: Record<string, unknown> = {}) => ({
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'Be terse.' },
      { role: 'user', content: 'one' },
      { role: 'assistant', content: 'ok' },
      { role: 'user', content: 'two' },
    ],
    ...over,
  });
  const postChat = (baseUrl: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${KEY}` }) =>
    fetch(`${baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it('answers a chat completion with usage', async () => {
    const emu = await startOpenAI();
    const body = await json(await postChat(emu.baseUrl, chatBody()));
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'gpt-4o-mini',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Echo of "Be terse." after 2 user turns.' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 3 + 1 + 1 + 1 },
    });
    expect(emu.completions()[0]?.call).toMatchObject({ system: 'Be terse.', messages: [{ role: 'user' }, { role: 'assistant' }, { role: 'user' }] });
  });

  it('streams data-only chunks ending in [DONE], with usage only when asked', async () => {
    const emu = await startOpenAI();
    const plain = frames(await (await postChat(emu.baseUrl, chatBody({ stream: true }))).text());
    expect(plain.every(([event]) => event === undefined)).toBe(true);
    expect(plain.at(-1)?.[1]).toBe('[DONE]');
    expect(plain.at(-2)?.[1]).toMatchObject({ choices: [{ delta: {}, finish_reason: 'stop' }] });
    expect(plain.slice(0, -1).some(([, c]) => 'usage' in (c as object))).toBe(false);

    const withUsage = frames(
      await (await postChat(emu.baseUrl, chatBody({ stream: true, stream_options: { include_usage: true } }))).text(),
    );
    const usageChunk = withUsage.at(-2)?.[1];
    expect(usageChunk).toMatchObject({ choices: [], usage: { prompt_tokens: 6, completion_tokens: expect.any(Number) } });
    const content = withUsage
      .slice(0, -2)
      .map(([, c]) => (c as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? '')
      .join('');
    expect(content).toBe('Echo of "Be terse." after 2 user turns.');
  });

  it('needs no key when keys is null, and records that none was sent', async () => {
    const emu = await startOpenAI({ keys: null });
    expect((await postChat(emu.baseUrl, chatBody(), {})).status).toBe(200);
    expect(emu.completions()[0]?.authPresent).toBe(false);
  });

  it('rejects a wrong key without echoing it', async () => {
    const emu = await startOpenAI();
    const res = await postChat(emu.baseUrl, chatBody(), { authorization: 'Bearer sk-wrong-1234' });
    expect(res.status).toBe(401);
    const text = await res.text();
    expect(text).toContain('invalid_api_key');
    expect(text).not.toContain('sk-wrong-1234');
  });

  it('speaks the OpenAI error dialect for scripted faults', async () => {
    const emu = await startOpenAI();
    emu.faults.enqueue(
      { type: 'rate_limited', retryAfterSeconds: 2 },
      { type: 'unavailable' },
      { type: 'context_length', maxTokens: 8 },
      { type: 'garbage_json' },
    );
    const limited = await postChat(emu.baseUrl, chatBody());
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '2']);
    expect((await postChat(emu.baseUrl, chatBody())).status).toBe(503);
    const tooLong = await json(await postChat(emu.baseUrl, chatBody()));
    expect(tooLong.error).toMatchObject({ code: 'context_length_exceeded', type: 'invalid_request_error' });
    const garbage = await postChat(emu.baseUrl, chatBody());
    expect(garbage.status).toBe(200);
    await expect(garbage.json()).rejects.toThrow(SyntaxError);
  });

  it('decides per call with a default function', async () => {
    const emu = await startOpenAI();
    emu.faults.setDefault((call) => (call.model === 'gpt-4.1-mini' ? { type: 'server_error' } : { type: 'ok' }));
    expect((await postChat(emu.baseUrl, chatBody({ model: 'gpt-4.1-mini' }))).status).toBe(500);
    expect((await postChat(emu.baseUrl, chatBody())).status).toBe(200);
  });

  it('lists models', async () => {
    const emu = await startOpenAI();
    const res = await fetch(`${emu.baseUrl}/models`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(await json(res)).toMatchObject({ object: 'list', data: [{ id: 'gpt-4o-mini' }, { id: 'gpt-4.1-mini' }] });
  });
});

describe('shared answer machinery', () => {
  const call = (over: Partial<CompletionCall> = {}): CompletionCall => ({
    model: 'm',
    system: '',
    messages: [{ role: 'user', content: 'abcd' }],
    maxTokens: 100,
    stop: [],
    stream: false,
    ...over,
  });

  it('splits text into deltas that join back exactly', () => {
    for (const text of ['', 'one', ' leading and trailing  ', 'a\nb\tc']) {
      expect(splitIntoDeltas(text).join('')).toBe(text);
    }
    expect(splitIntoDeltas('three little words')).toHaveLength(3);
  });

  it('applies the earliest stop sequence, then the token cap', () => {
    expect(composeAnswer(call({ stop: ['c', 'b'] }), 'abc')).toMatchObject({ text: 'a', finish: 'stop_sequence' });
    expect(composeAnswer(call({ maxTokens: 1 }), 'abcdefgh')).toMatchObject({ text: 'abcd', finish: 'length', outputTokens: 1 });
    expect(composeAnswer(call(), 'abc')).toMatchObject({ finish: 'stop', inputTokens: 1, outputTokens: 1 });
  });

  it('hands queued behaviours out once each', () => {
    const script = new FaultScript().enqueue({ type: 'hang' }, { type: 'server_error' });
    expect([script.next(call()).type, script.next(call()).type, script.next(call()).type]).toEqual(['hang', 'server_error', 'ok']);
  });
});

describe('API fidelity: Retry-After, parameter refusals, cumulative stream usage', () => {
  it('Anthropic: 529 and 503 carry Retry-After when scripted with one, as 429 always does', async () => {
    const emu = await startAnthropic();
    emu.faults.enqueue({ type: 'overloaded', retryAfterSeconds: 12 }, { type: 'unavailable', retryAfterSeconds: 3 }, { type: 'overloaded' });
    const first = await postMessages(emu.baseUrl, messagesBody());
    expect(first.status).toBe(529);
    expect(first.headers.get('retry-after')).toBe('12');
    expect((await json(first)).error.type).toBe('overloaded_error');
    const second = await postMessages(emu.baseUrl, messagesBody());
    expect([second.status, second.headers.get('retry-after')]).toEqual([503, '3']);
    const third = await postMessages(emu.baseUrl, messagesBody());
    expect([third.status, third.headers.get('retry-after')]).toEqual([529, null]);
  });

  it('Anthropic: the closing message_delta repeats the cumulative input and cache counts', async () => {
    const emu = await startAnthropic({ keys: { main: KEY }, minCacheTokens: 10 });
    const body = messagesBody({ stream: true, system: [{ type: 'text', text: 'Summarize the channel carefully. '.repeat(20), cache_control: { type: 'ephemeral' } }] });
    await (await postMessages(emu.baseUrl, body)).text();
    const events = frames(await (await postMessages(emu.baseUrl, body)).text());
    const start = events.find(([e]) => e === 'message_start')![1] as { message: { usage: Record<string, number> } };
    const delta = events.find(([e]) => e === 'message_delta')![1] as { usage: Record<string, number> };
    expect(start.message.usage.cache_read_input_tokens).toBeGreaterThan(0);
    expect(delta.usage.cache_read_input_tokens).toBe(start.message.usage.cache_read_input_tokens);
    expect(delta.usage.input_tokens).toBe(start.message.usage.input_tokens);
    expect(delta.usage.output_tokens).toBeGreaterThan(1);
  });

  it('OpenAI: a reasoning model refuses max_tokens with unsupported_parameter naming it; max_completion_tokens is served', async () => {
    const emu = await startOpenAI({ keys: { main: KEY }, models: ['o4-mini'], maxCompletionTokensOnly: ['o4-mini'] });
    const post = (body: unknown) =>
      fetch(`${emu.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
        body: JSON.stringify(body),
      });
    const messages = [{ role: 'user', content: 'hi' }];
    const refused = await post({ model: 'o4-mini', messages, max_tokens: 50 });
    expect(refused.status).toBe(400);
    expect((await json(refused)).error).toEqual({
      message: "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
      type: 'invalid_request_error',
      param: 'max_tokens',
      code: 'unsupported_parameter',
    });
    expect((await post({ model: 'o4-mini', messages, max_completion_tokens: 50 })).status).toBe(200);
  });

  it('OpenAI: 503 carries Retry-After when scripted with one', async () => {
    const emu = await startOpenAI();
    emu.faults.enqueue({ type: 'unavailable', retryAfterSeconds: 7 });
    const res = await fetch(`${emu.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect([res.status, res.headers.get('retry-after')]).toEqual([503, '7']);
  });
});
