import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GenerateRequest, StreamEvent } from '../../src/llm/provider-spec/contract.ts';
import { ProviderError } from '../../src/llm/provider-spec/contract.ts';
import { PluginHost } from '../../src/llm/plugin-host/host.ts';
import type { PluginHostOptions } from '../../src/llm/plugin-host/host.ts';
import type { PluginStatus } from '../../src/llm/plugin-host/plugin-set.ts';
import { PluginConfigError } from '../../src/llm/plugin-host/problems.ts';
import type { PluginLogger } from '../../src/llm/plugin-host/types.ts';

const SETS = path.join(import.meta.dirname, 'fixtures', 'sets');
const REPO_PLUGINS = path.join(import.meta.dirname, '..', '..', 'plugins');

interface LogEntry {
  level: string;
  obj: object;
  msg?: string;
}

function collectingLogger(entries: LogEntry[]): PluginLogger {
  const at = (level: string) => (obj: object, msg?: string) => void entries.push({ level, obj, ...(msg === undefined ? {} : { msg }) });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function request(content: string, model = 'echo-1'): GenerateRequest {
  return { system: 'sys', turns: [{ role: 'user', content }], model, maxTokens: 100 };
}

function byName(statuses: PluginStatus[]): Record<string, { state: string; reason?: string }> {
  return Object.fromEntries(statuses.map((status) => [status.name, { state: status.state, ...(status.reason ? { reason: status.reason } : {}) }]));
}

let dir: string;
let logs: LogEntry[];
const hosts: PluginHost[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'plugin-host-'));
  logs = [];
});

afterEach(async () => {
  for (const host of hosts.splice(0)) await host.close();
  await rm(dir, { recursive: true, force: true });
});

async function writeConfig(text: string, name = 'plugins.yaml'): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

async function start(set: string, config: string | undefined, extra: Partial<PluginHostOptions> = {}): Promise<PluginHost> {
  const host = await PluginHost.start({
    pluginsDir: path.join(SETS, set),
    env: {},
    logger: collectingLogger(logs),
    displayRoot: dir,
    loadTimeoutMs: 300,
    ...(config === undefined ? {} : { configPath: await writeConfig(config) }),
    ...extra,
  });
  hosts.push(host);
  return host;
}

const ALL_BASIC = [
  'plugins:',
  '  alpha: { config: { label: v1 } }',
  '  beta: {}',
  '  gamma: {}',
  '  delta: {}',
  '  thrower: {}',
  '  needs-thrower: {}',
  '  import-fails: {}',
  '  wrong-kind: {}',
  '  flaky: {}',
  '  broken: {}',
  '  sleepy: {}',
].join('\n');

describe('PluginHost: loading and isolation', () => {
  it('loads dependencies first and isolates every kind of failure', async () => {
    const host = await start('basic', ALL_BASIC);
    const statuses = await host.statuses();
    const states = byName(statuses);
    expect(states).toMatchObject({
      alpha: { state: 'active' },
      beta: { state: 'active' },
      gamma: { state: 'active' },
      delta: { state: 'active' },
      flaky: { state: 'active' },
      thrower: { state: 'error', reason: 'failed to load: cannot reach the backend' },
      'needs-thrower': { state: 'error', reason: 'dependency "thrower" is not active (failed to load: cannot reach the backend)' },
      'import-fails': { state: 'error', reason: 'failed to load: entry "index.ts" failed to import: module top level exploded' },
      'wrong-kind': { state: 'error', reason: 'failed to load: factory returned kind "processor" but the manifest says "provider"' },
      sleepy: { state: 'error', reason: 'failed to load: factory did not finish within 300 ms' },
    });
    expect(states.broken?.state).toBe('error');
    expect(states.broken?.reason).toContain('invalid manifest: ');
    expect(states.broken?.reason).toContain('broken/plugin.yaml:3:7: field "kind" must be one of provider, processor, hooks (got "provder")');

    const alpha = statuses.find((status) => status.name === 'alpha');
    expect(alpha).toEqual({
      name: 'alpha',
      version: '1.0.0',
      kind: 'provider',
      provider: 'alpha',
      state: 'active',
      health: { ok: true, detail: 'label=v1 closed=false' },
    });
    expect(host.isHealthy('alpha')).toBe(true);
    expect(statuses.find((status) => status.name === 'thrower')?.health.ok).toBe(false);

    // What the survivors provide still works.
    expect((await host.getProvider('alpha')?.generate(request('hi')))?.text).toBe('v1:hi');
    expect(host.getProvider('thrower')).toBeUndefined();
    expect(host.processors().map((processor) => processor.name)).toEqual(['beta']);
    expect(host.hooks().map((hooks) => hooks.priority)).toEqual([1, 5]);
    expect(logs.some((entry) => entry.level === 'error' && (entry.obj as { plugin?: string }).plugin === 'thrower')).toBe(true);
  });

  it('takes a provider that keeps throwing non-ProviderErrors out of service, and only that one', async () => {
    const host = await start('basic', 'plugins:\n  alpha: {}\n  flaky: {}\n', { crashThreshold: 3 });
    const flaky = host.getProvider('flaky');
    if (!flaky) throw new Error('flaky should be active');
    const failure = (content: string) => flaky.generate(request(content, 'flaky-1')).then(() => undefined, (error: unknown) => error);

    const first = await failure('boom');
    expect(first).toBeInstanceOf(ProviderError);
    expect((first as ProviderError).kind).toBe('server');
    expect((first as ProviderError).message).toMatch(/^provider "flaky" failed unexpectedly: TypeError: /);
    await failure('boom');
    // A well-formed ProviderError passes through untouched and resets the count.
    expect(((await failure('rate-limit')) as ProviderError).kind).toBe('rate_limited');
    await failure('boom');
    await failure('boom');
    expect(host.getProvider('flaky')).toBeDefined();
    const streamed = await (async () => {
      try {
        for await (const event of flaky.stream(request('x', 'flaky-1'))) void event;
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect((streamed as ProviderError).message).toBe('provider "flaky" failed unexpectedly: TypeError: stream is broken');

    expect(host.getProvider('flaky')).toBeUndefined();
    const status = (await host.statuses()).find((candidate) => candidate.name === 'flaky');
    expect(status?.state).toBe('error');
    expect(status?.reason).toBe('provider threw 3 unexpected errors in a row (last: TypeError: stream is broken)');
    const refused = await failure('again');
    expect((refused as ProviderError).message).toContain('provider "flaky" is not available: provider threw 3 unexpected errors');
    expect((await host.getProvider('alpha')?.generate(request('still here')))?.text).toBe('alpha-default:still here');
  });

  it('runs factories in dependency order, not name order', async () => {
    await start('order', 'plugins:\n  apple: {}\n  mango: {}\n  zebra: {}\n');
    const ran = logs.filter((entry) => entry.msg === 'factory ran').map((entry) => (entry.obj as { plugin: string }).plugin);
    expect(ran).toEqual(['mango', 'zebra', 'apple']);
  });

  it('marks every member of a dependency cycle, and what depends on it', async () => {
    const host = await start('cycle', 'plugins:\n  a: {}\n  b: {}\n  c: {}\n  d: {}\n  e: {}\n');
    expect(byName(await host.statuses())).toEqual({
      a: { state: 'error', reason: 'dependency cycle a → b → c → a' },
      b: { state: 'error', reason: 'dependency cycle a → b → c → a' },
      c: { state: 'error', reason: 'dependency cycle a → b → c → a' },
      d: { state: 'error', reason: 'dependency "b" is not active (dependency cycle a → b → c → a)' },
      e: { state: 'active' },
    });
  });

  it('names a missing dependency and a disabled one', async () => {
    const host = await start('missing', 'plugins:\n  lonely: {}\n  fine: {}\n');
    expect(byName(await host.statuses())).toEqual({
      fine: { state: 'active' },
      lonely: { state: 'error', reason: 'requires "ghost", which is not installed' },
    });
    const second = await start('missing', 'plugins:\n  lonely: {}\n  fine: { enabled: false }\n');
    expect(byName(await second.statuses())).toEqual({
      fine: { state: 'disabled', reason: 'not enabled in plugins.yaml' },
      lonely: { state: 'error', reason: 'requires "ghost", which is not installed; requires "fine", which is not enabled in plugins.yaml' },
    });
  });

  it('refuses to start on an invalid config, naming the unknown plugin and the known ones', async () => {
    const error = await start('missing', 'plugins:\n  fine: {}\n  lonley: {}\n').then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(PluginConfigError);
    expect((error as Error).message).toBe('plugins.yaml:3:3: unknown plugin "lonley" (known plugins: fine, lonely)');
  });

  it('refuses an entry that a symlink points outside the plugin folder', async () => {
    const pluginsDir = path.join(dir, 'plugins');
    await mkdir(path.join(pluginsDir, 'sneaky'), { recursive: true });
    await writeFile(path.join(dir, 'outside.ts'), 'export default () => ({ kind: "hooks", hooks: {} });\n');
    await symlink(path.join(dir, 'outside.ts'), path.join(pluginsDir, 'sneaky', 'index.ts'));
    await writeFile(path.join(pluginsDir, 'sneaky', 'plugin.yaml'), 'name: sneaky\nversion: 1.0.0\nkind: hooks\nentry: index.ts\n');
    const host = await PluginHost.start({
      pluginsDir,
      env: {},
      logger: collectingLogger(logs),
      configPath: await writeConfig('plugins:\n  sneaky: {}\n'),
      displayRoot: dir,
    });
    hosts.push(host);
    expect(byName(await host.statuses())).toEqual({
      sneaky: { state: 'error', reason: 'failed to load: entry "index.ts" resolves outside the plugin folder' },
    });
  });

  it('without PLUGINS_CONFIG enables local and pii-redactor, and keyed providers only when their keys are set', async () => {
    const host = await PluginHost.start({ pluginsDir: REPO_PLUGINS, env: {}, logger: collectingLogger(logs) });
    hosts.push(host);
    const states = byName(await host.statuses());
    expect(states.local).toEqual({ state: 'active' });
    expect(states['pii-redactor']).toEqual({ state: 'active' });
    expect(states.anthropic?.state).toBe('disabled');
    expect(states['openai-compatible']?.state).toBe('disabled');
    expect(host.router.tasks).toEqual({
      summarize: ['local/local-extractive'],
      'summarize-map': ['local/local-extractive'],
      chat: ['local/local-extractive'],
    });
    expect(host.processors().map((processor) => processor.name)).toEqual(['pii-redactor']);
    const answer = await host.getProvider('local')?.generate({ ...request('hello'), model: 'local-extractive', attachments: { task: 'chat' } });
    expect(answer?.text).toContain('no language model is configured');
  });
});

describe('PluginHost: reload', () => {
  async function readStream(iterator: AsyncIterator<StreamEvent>, count: number): Promise<string[]> {
    const deltas: string[] = [];
    for (let index = 0; index < count; index++) {
      const next = await iterator.next();
      if (next.done) break;
      const event = next.value;
      deltas.push(event.type === 'text' ? event.delta : event.type === 'finish' ? `finish:${event.finishReason}` : 'usage');
    }
    return deltas;
  }

  it('swaps in a new set while calls in flight finish on the old instance, which closes after them', async () => {
    const configPath = await writeConfig('plugins:\n  alpha: { config: { label: v1 } }\n  delta: {}\n');
    const host = await start('basic', undefined, { configPath });
    const oldAlpha = host.getProvider('alpha');
    if (!oldAlpha) throw new Error('alpha should be active');

    const inFlight = oldAlpha.stream(request('long answer'))[Symbol.asyncIterator]();
    expect(await readStream(inFlight, 1)).toEqual(['v1']);
    const lease = host.lease();

    await writeFile(configPath, 'plugins:\n  alpha: { config: { label: v2 } }\n');
    const result = await host.reload();
    if (!result.ok) throw new Error(result.error);
    let previousClosed = false;
    void result.previousClosed.then(() => {
      previousClosed = true;
    });

    // New calls see the new set; delta is gone from it.
    expect((await host.getProvider('alpha')?.generate(request('fresh')))?.text).toBe('v2:fresh');
    expect(host.hooks()).toEqual([]);
    expect(byName(result.statuses)).toMatchObject({ alpha: { state: 'active' }, delta: { state: 'disabled' } });

    // The old instance is still open and serving what started on it.
    expect((await oldAlpha.health()).detail).toBe('label=v1 closed=false');
    expect(await readStream(inFlight, 5)).toEqual([':long answer', 'finish:stop']);
    expect((await lease.getProvider('alpha')?.generate(request('leased')))?.text).toBe('v1:leased');
    expect(lease.hooks()).toHaveLength(1);
    expect(previousClosed).toBe(false);

    lease.release();
    lease.release();
    await result.previousClosed;
    expect((await oldAlpha.health()).detail).toBe('label=v1 closed=true');
    expect(logs.some((entry) => entry.msg === 'delta closed')).toBe(true);
    const late = await oldAlpha.generate(request('too late')).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect((late as ProviderError).message).toBe('provider "alpha" is not available: its plugin set was closed by a reload');
    expect((await host.getProvider('alpha')?.health())?.detail).toBe('label=v2 closed=false');
  });

  it('keeps the current set when the new config is invalid, and reports why', async () => {
    const configPath = await writeConfig('plugins:\n  alpha: { config: { label: v1 } }\n');
    const host = await start('basic', undefined, { configPath, env: {} });
    const before = host.getProvider('alpha');

    await writeFile(configPath, 'plugins:\n  alpha:\n    config:\n      label: ${UNSET_LABEL}\n  gost: {}\n');
    const result = await host.reload();
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBe('plugins.yaml:4:14: environment variable UNSET_LABEL is not set (use ${UNSET_LABEL:default} to give a default)');

    await writeFile(configPath, 'plugins:\n  alpha: {}\n  gost: {}\n');
    const second = await host.reload();
    expect(second.ok ? '' : second.error).toMatch(/^plugins\.yaml:3:3: unknown plugin "gost" \(known plugins: alpha, beta, /);

    expect(host.getProvider('alpha')).toBe(before);
    expect((await host.getProvider('alpha')?.generate(request('same')))?.text).toBe('v1:same');
    expect((await before?.health())?.detail).toBe('label=v1 closed=false');
  });

  it('closes every instance on close()', async () => {
    const host = await start('basic', 'plugins:\n  alpha: {}\n');
    const alpha = host.getProvider('alpha');
    await host.close();
    expect((await alpha?.health())?.detail).toBe('label=alpha-default closed=true');
    expect((await host.reload()).ok).toBe(false);
  });
});
