import { describe, expect, it } from 'vitest';
import type { CallInfo, RequestProcessor } from '../../src/llm/plugin-host/types.ts';
import type { GenerateRequest } from '../../src/llm/provider-spec/contract.ts';
import { RouterError } from '../../src/llm/router/errors.ts';
import type { NamedHooks } from '../../src/llm/router/types.ts';
import { TestBackend, ask, ctx, failure, model, world, type CallLog } from './support.ts';

/** A real (if simple) redactor: e-mail addresses out of every turn and attachment. */
const redactEmails: RequestProcessor = {
  name: 'redact-emails',
  process(request: GenerateRequest): GenerateRequest {
    const scrub = (s: string) => s.replace(/[\w.+-]+@[\w-]+\.[\w.]+/g, '[email]');
    return { ...request, turns: request.turns.map((t) => ({ ...t, content: scrub(t.content) })) };
  },
};

const tagTurns: RequestProcessor = {
  name: 'tag',
  async process(request) {
    return { ...request, turns: request.turns.map((t) => ({ ...t, content: `<data>${t.content}</data>` })) };
  },
};

const PLAN = [{ provider: 'only', model: 'm' }];

describe('request processors', () => {
  it('apply in order before the request leaves, so the provider sees the redacted text', async () => {
    const log: CallLog = [];
    const only = new TestBackend('only', [model('m')], log);
    const w = world({ backends: [only], plan: PLAN, extra: { processors: [redactEmails, tagTurns] } });
    const res = await w.router.generate(ask('mail alice@example.com now'), ctx());
    expect(only.calls[0]?.turns[0]?.content).toBe('<data>mail [email] now</data>');
    expect(res.text).not.toContain('alice@example.com');
  });

  it('can be switched off per guild', async () => {
    const log: CallLog = [];
    const only = new TestBackend('only', [model('m')], log);
    const w = world({
      backends: [only],
      plan: PLAN,
      extra: { processors: [redactEmails], processorEnabled: (guildId, name) => !(guildId === 'g-off' && name === 'redact-emails') },
    });
    await w.router.generate(ask('bob@example.org'), ctx({ guildId: 'g-on' }));
    await w.router.generate(ask('bob@example.org'), ctx({ guildId: 'g-off' }));
    expect(only.calls.map((c) => c.turns[0]?.content)).toEqual(['[email]', 'bob@example.org']);
  });

  it('fail the call closed when one throws: nothing unprocessed is sent', async () => {
    const log: CallLog = [];
    const only = new TestBackend('only', [model('m')], log);
    const broken: RequestProcessor = {
      name: 'broken',
      process() {
        throw new Error('dictionary missing');
      },
    };
    const w = world({ backends: [only], plan: PLAN, extra: { processors: [broken] } });
    const err = (await failure(w.router.generate(ask('carol@example.net'), ctx()))) as RouterError;
    expect(err.kind).toBe('processor_failed');
    expect(err.message).toContain('"broken"');
    expect(only.calls).toHaveLength(0);
    expect(w.ledger.records.at(-1)?.outcome).toBe('error:processor_failed');
  });

  it('never see the API key', async () => {
    const log: CallLog = [];
    const only = new TestBackend('only', [model('m')], log, { requiresKey: true, acceptedKeys: ['sk-op'] });
    const seen: GenerateRequest[] = [];
    const spy: RequestProcessor = { name: 'spy', process: (r) => (seen.push(r), r) };
    const w = world({ backends: [only], plan: PLAN, operatorKeys: { only: 'sk-op' }, operatorAllowed: ['g1'], extra: { processors: [spy] } });
    await w.router.generate(ask(), ctx());
    expect(only.calls[0]?.apiKey).toBe('sk-op');
    expect(JSON.stringify(seen)).not.toContain('sk-op');
  });
});

describe('hooks', () => {
  it('run in priority order, before and after each attempt, without seeing the key', async () => {
    const log: CallLog = [];
    const only = new TestBackend('only', [model('m')], log, { requiresKey: true, acceptedKeys: ['sk-op'] });
    const order: string[] = [];
    const infos: CallInfo[] = [];
    const hook = (name: string, priority?: number): NamedHooks => ({
      name,
      priority,
      beforeCall: (info) => {
        order.push(`before:${name}`);
        infos.push(info);
      },
      afterCall: (_info, outcome) => {
        order.push(`after:${name}:${outcome.response ? 'ok' : 'error'}`);
      },
    });
    const w = world({
      backends: [only],
      plan: PLAN,
      operatorKeys: { only: 'sk-op' },
      operatorAllowed: ['g1'],
      extra: { hooks: [hook('audit', 10), hook('first', -5), hook('plain')] },
    });
    await w.router.generate(ask(), ctx());
    expect(order).toEqual(['before:first', 'before:plain', 'before:audit', 'after:first:ok', 'after:plain:ok', 'after:audit:ok']);
    expect(infos[0]).toMatchObject({ provider: 'only', model: 'm' });
    expect(infos[0]?.request.apiKey).toBeUndefined();
    expect(JSON.stringify(infos)).not.toContain('sk-op');
  });

  it('are cut off after their timeout and isolated from the call when they fail', async () => {
    const log: CallLog = [];
    const only = new TestBackend('only', [model('m')], log);
    const ran: string[] = [];
    const hooks: NamedHooks[] = [
      { name: 'hangs', priority: 1, timeoutMs: 20, beforeCall: () => new Promise<void>(() => {}) },
      {
        name: 'throws',
        priority: 2,
        beforeCall: () => {
          throw new Error('audit store down');
        },
      },
      { name: 'rejects-late', priority: 3, timeoutMs: 10, afterCall: () => new Promise<void>((_, no) => setTimeout(() => no(new Error('late')), 30)) },
      { name: 'after', priority: 4, afterCall: () => void ran.push('after') },
    ];
    const w = world({ backends: [only], plan: PLAN, extra: { hooks } });
    const res = await w.router.generate(ask(), ctx());
    expect(res.provider).toBe('only');
    expect(ran).toEqual(['after']);
    await new Promise((r) => setTimeout(r, 40)); // let the late rejection land
    const warnings = w.logger.entries.filter((e) => e.level === 'warn').map((e) => [(e.obj as { hook: string }).hook, e.msg]);
    expect(warnings).toEqual([
      ['hangs', 'hook timed out; the call went on without it'],
      ['throws', 'hook failed; the call went on without it'],
      ['rejects-late', 'hook timed out; the call went on without it'],
      ['rejects-late', 'hook failed after its timeout'],
    ]);
    // A hook is plugin code: its failure is logged whole, so the stack points into the plugin.
    const thrown = w.logger.entries.find((e) => (e.obj as { hook: string }).hook === 'throws')?.obj as { err: unknown };
    expect(thrown.err).toBeInstanceOf(Error);
    expect((thrown.err as Error).message).toBe('audit store down');
    expect((thrown.err as Error).stack).toContain('processors-hooks.test.ts');
  });

  it('see each failed attempt’s error', async () => {
    const log: CallLog = [];
    const primary = new TestBackend('primary', [model('p')], log).failNext({ kind: 'overloaded' });
    const secondary = new TestBackend('secondary', [model('s')], log);
    const outcomes: string[] = [];
    const w = world({
      backends: [primary, secondary],
      plan: [
        { provider: 'primary', model: 'p' },
        { provider: 'secondary', model: 's' },
      ],
      extra: {
        hooks: [{ afterCall: (info, o) => void outcomes.push(`${info.provider}:${o.error ? (o.error as Error).message : 'ok'}`) }],
      },
    });
    await w.router.generate(ask(), ctx());
    expect(outcomes).toEqual(['primary:overloaded (simulated outage)', 'secondary:ok']);
  });
});
