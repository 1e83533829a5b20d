import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/llm/provider-spec/contract.ts';
import { RouterError } from '../../src/llm/router/errors.ts';
import type { RouterResponse, RouterStreamEvent } from '../../src/llm/router/types.ts';
import { TestBackend, ask, ctx, model, world, type CallLog } from './support.ts';

const PLAN = [
  { provider: 'primary', model: 'p' },
  { provider: 'secondary', model: 's' },
];

async function drain(events: AsyncIterable<RouterStreamEvent>, received: string[]): Promise<RouterResponse | undefined> {
  let finish: RouterResponse | undefined;
  for await (const event of events) {
    if (event.type === 'text') received.push(event.delta);
    else finish = event.response;
  }
  return finish;
}

describe('streaming', () => {
  it('streams deltas and ends with the full response', async () => {
    const log: CallLog = [];
    const primary = new TestBackend('primary', [model('p')], log);
    const w = world({ backends: [primary], plan: PLAN.slice(0, 1) });
    const received: string[] = [];
    const res = await drain(w.router.stream(ask('stream me'), ctx()), received);
    expect(received.length).toBeGreaterThan(3);
    expect(res?.text).toBe(received.join(''));
    expect(res?.text).toBe('primary read 1 turns ending "stream me"');
    expect(res?.provider).toBe('primary');
    expect(w.ledger.records.at(-1)).toMatchObject({ outcome: 'ok', provider: 'primary', model: 'p' });
  });

  it('falls back before the first token', async () => {
    const log: CallLog = [];
    const primary = new TestBackend('primary', [model('p')], log).failNext({ kind: 'overloaded' });
    const secondary = new TestBackend('secondary', [model('s')], log);
    const w = world({ backends: [primary, secondary], plan: PLAN });
    const received: string[] = [];
    const res = await drain(w.router.stream(ask(), ctx()), received);
    expect(log).toEqual(['primary:p', 'secondary:s']);
    expect(received.join('')).toMatch(/^secondary read/);
    expect(res?.attempts.map((a) => a.reason ?? a.status)).toEqual(['overloaded', 'ok']);
    expect(w.waits).toEqual([]);
  });

  it('falls back when the first token does not come in time', async () => {
    const log: CallLog = [];
    const primary = new TestBackend('primary', [model('p')], log, { stallBeforeFirstToken: true });
    const secondary = new TestBackend('secondary', [model('s')], log);
    const w = world({ backends: [primary, secondary], plan: PLAN, options: { timeouts: { firstTokenMs: 20 } } });
    const res = await drain(w.router.stream(ask(), ctx()), []);
    expect(res?.provider).toBe('secondary');
    expect(res?.attempts[0]).toMatchObject({ reason: 'timeout', detail: 'no first token within 20 ms' });
    expect(primary.calls[0]?.signal?.aborted).toBe(true);
  });

  it('does not fall back after the first token reached the caller', async () => {
    const log: CallLog = [];
    const primary = new TestBackend('primary', [model('p')], log, { dropAfterDeltas: 2 });
    const secondary = new TestBackend('secondary', [model('s')], log);
    const w = world({ backends: [primary, secondary], plan: PLAN });
    const received: string[] = [];
    let thrown: unknown;
    try {
      await drain(w.router.stream(ask(), ctx()), received);
    } catch (err) {
      thrown = err;
    }
    expect(received).toEqual(['primary ', 'read ']);
    expect(thrown).toBeInstanceOf(ProviderError);
    expect((thrown as ProviderError).kind).toBe('network');
    expect(secondary.calls).toHaveLength(0);
    expect(log).toEqual(['primary:p']);
    expect(w.ledger.records.at(-1)).toMatchObject({ outcome: 'error:network', provider: 'primary' });
    expect(w.ledger.records.at(-1)?.outputTokens).toBeGreaterThan(0);
  });

  it('stops the provider and accounts for the call when the consumer stops reading', async () => {
    const log: CallLog = [];
    const primary = new TestBackend('primary', [model('p')], log);
    const w = world({ backends: [primary], plan: PLAN.slice(0, 1) });
    for await (const event of w.router.stream(ask(), ctx())) {
      expect(event.type).toBe('text');
      break;
    }
    expect(primary.calls[0]?.signal?.aborted).toBe(true);
    expect(w.ledger.records).toHaveLength(1);
    expect(w.ledger.records[0]?.outcome).toBe('error:aborted');
  });

  it('reports a refusal or outage before any event as a RouterError', async () => {
    const log: CallLog = [];
    const primary = new TestBackend('primary', [model('p')], log).failNext({ kind: 'bad_request' });
    const w = world({ backends: [primary], plan: PLAN.slice(0, 1) });
    let thrown: unknown;
    try {
      await drain(w.router.stream(ask(), ctx()), []);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(RouterError);
    expect((thrown as RouterError).kind).toBe('bad_request');
  });
});
