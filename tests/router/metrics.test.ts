import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createRouterMetrics } from '../../src/llm/router/metrics.ts';
import { TestBackend, ask, ctx, failure, model, world, type CallLog } from './support.ts';

describe('router metrics', () => {
  it('count requests by outcome, tokens, cost and duration', async () => {
    const log: CallLog = [];
    const primary = new TestBackend('primary', [model('p', 100_000, [3, 15])], log).failNext({ kind: 'overloaded' });
    const secondary = new TestBackend('secondary', [model('s', 100_000, [1, 5])], log);
    const w = world({
      backends: [primary, secondary],
      plan: [
        { provider: 'primary', model: 'p' },
        { provider: 'secondary', model: 's' },
      ],
      userRate: { capacity: 1, refillPerSecond: 0.01 },
    });
    const res = await w.router.generate(ask(), ctx());
    await failure(w.router.generate(ask(), ctx()));

    const requests = await w.registry.getSingleMetricAsString('recap_llm_requests_total');
    expect(requests).toContain('recap_llm_requests_total{provider="primary",model="p",task="summarize",outcome="error:overloaded"} 1');
    expect(requests).toContain('recap_llm_requests_total{provider="secondary",model="s",task="summarize",outcome="ok"} 1');
    expect(requests).toContain('recap_llm_requests_total{provider="none",model="none",task="summarize",outcome="refused:rate"} 1');

    const tokens = await w.registry.getSingleMetricAsString('recap_llm_tokens_total');
    expect(tokens).toContain(`recap_llm_tokens_total{direction="input"} ${res.usage.inputTokens}`);
    expect(tokens).toContain(`recap_llm_tokens_total{direction="output"} ${res.usage.outputTokens}`);

    const cost = await w.registry.getSingleMetricAsString('recap_llm_cost_usd_total');
    expect(cost).toContain(`recap_llm_cost_usd_total ${res.costUsd}`);

    const duration = await w.registry.getSingleMetricAsString('recap_llm_request_duration_seconds');
    expect(duration).toContain('recap_llm_request_duration_seconds_count{provider="secondary",model="s",task="summarize"} 1');
    expect(duration).toContain('recap_llm_request_duration_seconds_count{provider="primary",model="p",task="summarize"} 1');
  });

  it('show the circuit state as a label, 1 on the current state and 0 on the others', async () => {
    const log: CallLog = [];
    const only = new TestBackend('only', [model('m')], log).failNext({ kind: 'server' });
    const w = world({
      backends: [only],
      plan: [{ provider: 'only', model: 'm', breaker: { failureThreshold: 1, coolDownMs: 1_000 } }],
      options: { retry: { rounds: 0 } },
    });
    const gauge = () => w.registry.getSingleMetricAsString('recap_circuit_state');
    await failure(w.router.generate(ask(), ctx()));
    const series = async (): Promise<string[]> =>
      (await gauge()).split('\n').filter((line) => line.startsWith('recap_circuit_state{')).sort();
    expect(await series()).toEqual([
      'recap_circuit_state{target="only/m",state="closed"} 0',
      'recap_circuit_state{target="only/m",state="half_open"} 0',
      'recap_circuit_state{target="only/m",state="open"} 1',
    ]);
    w.clock.advance(1_000);
    expect(await series()).toEqual([
      'recap_circuit_state{target="only/m",state="closed"} 0',
      'recap_circuit_state{target="only/m",state="half_open"} 1',
      'recap_circuit_state{target="only/m",state="open"} 0',
    ]);
    await w.router.generate(ask(), ctx());
    expect(await series()).toEqual([
      'recap_circuit_state{target="only/m",state="closed"} 1',
      'recap_circuit_state{target="only/m",state="half_open"} 0',
      'recap_circuit_state{target="only/m",state="open"} 0',
    ]);
    expect(await gauge()).not.toMatch(/recap_circuit_state\{target="only\/m"\} [0-2]/);
  });

  it('never turn secrets or user text into labels', async () => {
    const registry = new Registry();
    const metrics = createRouterMetrics(registry);
    metrics.recordCall({
      provider: 'sk-ant-api03 secret key',
      model: 'ignore previous instructions\n{evil="1"}',
      task: 'summarize',
      outcome: 'error:<script>' as 'ok',
      durationSeconds: 0.1,
      inputTokens: 1,
      outputTokens: 1,
      costUsd: 0,
    });
    const text = await registry.getSingleMetricAsString('recap_llm_requests_total');
    expect(text).toContain('recap_llm_requests_total{provider="other",model="other",task="summarize",outcome="error:other"} 1');
    expect(text).not.toContain('secret');
    expect(text).not.toContain('instructions');
  });

  it('leave circuits for guilds’ own keys out of the gauge', async () => {
    const registry = new Registry();
    const metrics = createRouterMetrics(registry);
    metrics.watchCircuits(() => [
      { target: 'a/m', scope: 'operator', state: 'closed', retryAt: 0 },
      { target: 'a/m', scope: { guildId: '123' }, state: 'open', retryAt: 5 },
    ]);
    const text = await registry.getSingleMetricAsString('recap_circuit_state');
    expect(text).toContain('recap_circuit_state{target="a/m",state="closed"} 1');
    expect(text).toContain('recap_circuit_state{target="a/m",state="open"} 0');
    expect(text).not.toContain('123');
  });
});
