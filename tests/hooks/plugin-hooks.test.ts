/**
 * The hook runner at the core's hook points: order, timeouts, failures,
 * bounded amendments, frozen events and the per-plugin metrics, read back
 * from a real prom-client registry.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createHookMetrics } from '../../src/hooks/hook-metrics.ts';
import { createPluginHooks } from '../../src/hooks/plugin-hooks.ts';
import { createHookRunner } from '../../src/llm/router/hooks.ts';
import type { ChatBeforeEvent, PromptResolvedEvent } from '../../src/llm/plugin-host/hook-points.ts';
import type { HookEntry } from '../../src/llm/plugin-host/plugin-set.ts';
import type { PluginLogger } from '../../src/llm/plugin-host/types.ts';

function recordingLogger(): PluginLogger & { lines: Array<{ obj: object; msg: string | undefined }> } {
  const lines: Array<{ obj: object; msg: string | undefined }> = [];
  const push = (obj: object, msg?: string) => void lines.push({ obj, msg });
  return { lines, debug: push, info: push, warn: push, error: push };
}

const CHAT: ChatBeforeEvent = { guildId: '1', channelId: '2', userId: '3', question: 'what shipped?', correlationId: 'c1' };
const PROMPT: PromptResolvedEvent = {
  guildId: '1', category: 'chat', type: 'chat', perspective: null, level: 'default', repo: 'bundled', ref: null, commit: null, path: 'assistant/default.md', content: 'You are helpful.',
};

async function metricValues(registry: Registry, name: string): Promise<Array<{ labels: object; value: number }>> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  return (await metric.get()).values.map((v) => ({ labels: v.labels, value: v.value }));
}

describe('plugin hooks at the core hook points', () => {
  it('runs lower priorities first, then load order, and collects the notes', async () => {
    const order: string[] = [];
    const entries: HookEntry[] = [
      { plugin: 'late', hooks: { priority: 10, 'chat.before': () => void order.push('late') } },
      { plugin: 'first', hooks: { priority: -5, 'chat.before': () => (order.push('first'), { notes: ['from first'] }) } },
      { plugin: 'second', hooks: { 'chat.before': async () => (order.push('second'), { notes: ['from second', 'and again'] }) } },
      { plugin: 'other-point', hooks: { 'chat.after': () => void order.push('never') } },
    ];
    const hooks = createPluginHooks({ entries: () => entries, logger: recordingLogger() });
    expect(await hooks.run('chat.before', CHAT)).toEqual({ notes: ['from first', 'from second', 'and again'], append: [] });
    expect(order).toEqual(['first', 'second', 'late']);
  });

  it('goes on without a hook that throws, rejects or overruns its timeout, and counts each', async () => {
    const registry = new Registry();
    const logger = recordingLogger();
    let lateRejection: (() => void) | undefined;
    const entries: HookEntry[] = [
      { plugin: 'throws', hooks: { 'chat.before': () => { throw new Error('boom'); } } },
      { plugin: 'rejects', hooks: { 'chat.before': async () => Promise.reject(new Error('nope')) } },
      {
        plugin: 'slow',
        hooks: {
          timeoutMs: 50,
          'chat.before': () => new Promise((_, reject) => { lateRejection = () => reject(new Error('late')); }),
        },
      },
      { plugin: 'fine', hooks: { 'chat.before': () => ({ notes: ['still here'] }) } },
    ];
    const hooks = createPluginHooks({ entries: () => entries, logger, metrics: createHookMetrics(registry) });
    const started = Date.now();
    expect(await hooks.run('chat.before', CHAT)).toEqual({ notes: ['still here'], append: [] });
    expect(Date.now() - started).toBeLessThan(1_000);
    lateRejection?.();
    await new Promise((resolve) => setTimeout(resolve, 10));

    expect(logger.lines.map((l) => [(l.obj as { plugin?: string }).plugin, l.msg])).toEqual([
      ['throws', 'hook failed; the request went on without it'],
      ['rejects', 'hook failed; the request went on without it'],
      ['slow', 'hook timed out; the request went on without it'],
      ['slow', 'hook failed after its timeout'],
    ]);
    expect(await metricValues(registry, 'recap_plugin_hook_errors_total')).toEqual([
      { labels: { plugin: 'throws', hook: 'chat.before', reason: 'error' }, value: 1 },
      { labels: { plugin: 'rejects', hook: 'chat.before', reason: 'error' }, value: 1 },
      { labels: { plugin: 'slow', hook: 'chat.before', reason: 'timeout' }, value: 1 },
    ]);
    expect(await metricValues(registry, 'recap_plugin_hook_runs_total')).toEqual(
      ['throws', 'rejects', 'slow', 'fine'].map((plugin) => ({ labels: { plugin, hook: 'chat.before' }, value: 1 })),
    );
    const durations = await metricValues(registry, 'recap_plugin_hook_duration_seconds');
    const slowSum = durations.find((d) => (d.labels as { plugin?: string }).plugin === 'slow' && !('le' in d.labels));
    expect(slowSum?.value).toBeGreaterThanOrEqual(0.04);
  });

  it('refuses a return value outside the bounds whole, and keeps the appended text under its total', async () => {
    const registry = new Registry();
    const logger = recordingLogger();
    const entries: HookEntry[] = [
      { plugin: 'too-many-notes', hooks: { 'chat.before': () => ({ notes: ['a', 'b', 'c', 'd'] }) } },
      { plugin: 'long-note', hooks: { 'chat.before': () => ({ notes: ['x'.repeat(301)] }) } },
      { plugin: 'unknown-field', hooks: { 'chat.before': () => ({ notes: ['ok'], question: 'rewritten' }) as never } },
      { plugin: 'good', hooks: { 'chat.before': () => ({ notes: ['  kept  '] }) } },
      { plugin: 'append-a', hooks: { 'prompt.resolved': () => ({ append: 'a'.repeat(2_000) }) } },
      { plugin: 'append-b', hooks: { 'prompt.resolved': () => ({ append: 'b'.repeat(2_000) }) } },
      { plugin: 'append-c', hooks: { 'prompt.resolved': () => ({ append: 'c' }) } },
      { plugin: 'append-too-long', hooks: { 'prompt.resolved': () => ({ append: 'd'.repeat(2_001) }) } },
    ];
    const hooks = createPluginHooks({ entries: () => entries, logger, metrics: createHookMetrics(registry) });
    expect(await hooks.run('chat.before', CHAT)).toEqual({ notes: ['kept'], append: [] });
    const prompt = await hooks.run('prompt.resolved', PROMPT);
    expect(prompt.append.map((a) => a.length)).toEqual([2_000, 2_000]);
    expect((await metricValues(registry, 'recap_plugin_hook_errors_total')).map((v) => v.labels)).toEqual([
      { plugin: 'too-many-notes', hook: 'chat.before', reason: 'invalid' },
      { plugin: 'long-note', hook: 'chat.before', reason: 'invalid' },
      { plugin: 'unknown-field', hook: 'chat.before', reason: 'invalid' },
      { plugin: 'append-c', hook: 'prompt.resolved', reason: 'invalid' },
      { plugin: 'append-too-long', hook: 'prompt.resolved', reason: 'invalid' },
    ]);
    // The log names the plugin and the problem, never the event's text.
    const refusals = logger.lines.filter((l) => l.msg === 'hook returned something outside its bounds; ignored');
    expect(refusals.map((l) => (l.obj as { plugin: string }).plugin)).toEqual(['too-many-notes', 'long-note', 'unknown-field', 'append-too-long']);
    expect(JSON.stringify(logger.lines)).not.toContain('what shipped?');
  });

  it('hands each hook a frozen copy: a hook cannot change the request or what later hooks see', async () => {
    const seen: string[] = [];
    const event = { ...CHAT };
    const entries: HookEntry[] = [
      {
        plugin: 'mutator',
        hooks: {
          'chat.before': (e) => {
            (e as { question: string }).question = 'changed';
          },
        },
      },
      { plugin: 'reader', hooks: { 'chat.before': (e) => void seen.push(e.question) } },
    ];
    const logger = recordingLogger();
    await createPluginHooks({ entries: () => entries, logger }).run('chat.before', event);
    expect(event.question).toBe('what shipped?');
    expect(seen).toEqual(['what shipped?']);
    expect(logger.lines[0]?.msg).toBe('hook failed; the request went on without it');
  });

  it('reads the entries at every run, so a reload takes effect at once', async () => {
    let entries: HookEntry[] = [];
    const hooks = createPluginHooks({ entries: () => entries, logger: recordingLogger() });
    expect(await hooks.run('chat.before', CHAT)).toEqual({ notes: [], append: [] });
    entries = [{ plugin: 'new', hooks: { 'chat.before': () => ({ notes: ['new plugin'] }) } }];
    expect((await hooks.run('chat.before', CHAT)).notes).toEqual(['new plugin']);
  });

  it('counts the provider-call hooks under their plugin names too', async () => {
    const registry = new Registry();
    const runner = createHookRunner(
      [
        { name: 'audit', beforeCall: () => undefined, afterCall: () => { throw new Error('disk full'); } },
      ],
      100,
      recordingLogger(),
      createHookMetrics(registry),
    );
    const info = { ctx: { task: 'chat' as const, correlationId: 'c' }, provider: 'echo', model: 'm', request: { model: 'm', system: '', turns: [], maxTokens: 1 } };
    await runner.before(info);
    await runner.after(info, { latencyMs: 1 });
    expect(await metricValues(registry, 'recap_plugin_hook_runs_total')).toEqual([
      { labels: { plugin: 'audit', hook: 'beforeCall' }, value: 1 },
      { labels: { plugin: 'audit', hook: 'afterCall' }, value: 1 },
    ]);
    expect(await metricValues(registry, 'recap_plugin_hook_errors_total')).toEqual([{ labels: { plugin: 'audit', hook: 'afterCall', reason: 'error' }, value: 1 }]);
  });
});
