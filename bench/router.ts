/**
 * `npm run bench -- router [--overhead-calls 20000] [--seconds 10] [--concurrency 200]`
 *
 * The provider router's own cost. The overhead figures time the router
 * in-process around a provider that answers at once, so network noise does
 * not swamp a fraction of a millisecond; the rest run against the LLM
 * emulators on loopback (in a child process, so their work does not count
 * against this process's event loop), with the real plugins loaded by the
 * plugin host, the pii-redactor included, and an in-memory usage sink:
 *
 *   router-overhead-p50/p99   router.generate around an instant in-process
 *                              provider (`--overhead-calls`, default 20000), ms
 *   failover-added             in-process primary answers 529, secondary answers:
 *                              p50 added over the single-target call, ms
 *   fallback-on-retired-model  ok when a retired primary model (emulator 404
 *                              not_found_error) is served by the secondary
 *   breaker-open-added-p99     the primary's circuit is open: the router's own
 *                              p99 span over the single-target call's, ms
 *   router-throughput          requests/s at `concurrency` callers
 *   router-loop-lag-p99        event-loop delay during the throughput run, ms
 *   budget-overspend-max       20 calls from 2 processes on a $1 budget (real Postgres): spent - budget, USD
 *   budget-call-max            one of those calls' maximum cost, for comparison, USD
 *   rate-limit-excess          2 processes over one member's limit, on real Postgres (see _router-shared.ts)
 *   shared-check-p99           latency the shared limit, cooldown and circuit checks add per call, ms
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Registry } from 'prom-client';
import { DEFAULT_PLUGINS_DIR } from '../src/llm/service.ts';
import { createGuildPlan } from '../src/llm/target-plan.ts';
import { PluginHost } from '../src/llm/plugin-host/host.ts';
import type { PluginLogger } from '../src/llm/plugin-host/types.ts';
import { ProviderError, type GenerateRequest, type Provider } from '../src/llm/provider-spec/contract.ts';
import { systemClock } from '../src/resilience/clock.ts';
import { createKeyResolver } from '../src/llm/router/key-resolver.ts';
import { createRouterMetrics } from '../src/llm/router/metrics.ts';
import { createRouter, type Router } from '../src/llm/router/router.ts';
import { createSpendGuard } from '../src/llm/router/spend-guard.ts';
import type { TaskRequest } from '../src/llm/router/types.ts';
import { quantile, report } from './_report.ts';
import { budgetFigures } from './router-budget.ts';
import { runSharedFigures } from './_router-shared.ts';

const OPERATOR_KEY = 'sk-ant-bench-operator-0001';
const SECONDARY = 'openai-compatible';
const SECONDARY_MODEL = 'gpt-4o-mini';

const quiet: PluginLogger = { debug() {}, info() {}, warn() {}, error() {} };

interface Emulators {
  /** OpenAI-style, answers at once, needs no key. */
  openai: string;
  /** Anthropic, every completion answered 529. */
  overloaded: string;
  /** Anthropic, completions never answered. */
  hanging: string;
  /** Anthropic with its default models: any other model id is answered 404 not_found_error. */
  anthropic: string;
}

/** Starts the emulators in a child process and returns their URLs; the child ends when `stop` is called. */
async function startEmulators(): Promise<{ urls: Emulators; stop(): void }> {
  const root = path.resolve(import.meta.dirname, '..');
  const code = `
    const anthropic = await import(${JSON.stringify(path.join(root, 'tests/emulators/anthropic/server.ts'))});
    const openai = await import(${JSON.stringify(path.join(root, 'tests/emulators/openai/server.ts'))});
    const keys = { operator: ${JSON.stringify(OPERATOR_KEY)} };
    const ok = await openai.start({ keys: null });
    const overloaded = await anthropic.start({ keys });
    overloaded.faults.setDefault({ type: 'overloaded' });
    const hanging = await anthropic.start({ keys });
    hanging.faults.setDefault({ type: 'hang' });
    const plain = await anthropic.start({ keys });
    process.stdout.write(JSON.stringify({ openai: ok.baseUrl, overloaded: overloaded.baseUrl, hanging: hanging.baseUrl, anthropic: plain.baseUrl }) + '\\n');
    process.stdin.resume();
    process.stdin.on('end', () => process.exit(0));
  `;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const stop = () => {
    child.stdin?.end();
    if (child.exitCode === null) child.kill('SIGTERM');
  };
  try {
    const line = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.once('line', resolve);
      child.once('exit', (status) => reject(new Error(`emulator process exited (${String(status)}) before starting`)));
      setTimeout(() => reject(new Error('emulators did not start within 30 s')), 30_000).unref();
    });
    return { urls: JSON.parse(line) as Emulators, stop };
  } catch (err) {
    stop();
    throw err;
  }
}

interface Rig {
  router: Router;
  host: PluginHost;
  secondary: Provider;
  /** Usage records received (the sink only counts them). */
  recorded(): number;
  close(): Promise<void>;
}

/** The real plugins through the host, with the given PLUGINS_CONFIG, composed the way the LLM service composes them. */
async function rig(dir: string, name: string, config: string): Promise<Rig> {
  const configPath = path.join(dir, `${name}.yaml`);
  await writeFile(configPath, config);
  const env = { ANTHROPIC_API_KEY: OPERATOR_KEY };
  const host = await PluginHost.start({ pluginsDir: DEFAULT_PLUGINS_DIR, env, logger: quiet, configPath, displayRoot: dir });
  const plan = createGuildPlan({ routerConfig: () => host.router, providerOrder: () => undefined });
  let records = 0;
  const router = createRouter({
    providers: host,
    plan: plan.plan,
    keys: createKeyResolver({
      guildKey: () => undefined,
      operatorKey: (provider) => (provider === 'anthropic' ? OPERATOR_KEY : undefined),
      mayUseOperatorKey: () => true,
    }),
    // Budget checked on every call (in memory), rates off: the figures are the router's, not a limit's.
    spendGuard: createSpendGuard({ store: { spentToday: async () => 0, budgetFor: () => 1_000 }, clock: systemClock }),
    usage: { record: () => void records++ },
    metrics: createRouterMetrics(new Registry()),
    processors: host.processors(),
    hooks: host.hooks(),
    clock: systemClock,
    random: Math.random,
    logger: quiet,
  });
  const secondary = host.getProvider(SECONDARY);
  if (secondary === undefined) throw new Error(`${name}: provider ${SECONDARY} did not load`);
  return { router, host, secondary, recorded: () => records, close: () => host.close() };
}

function pluginsConfig(
  urls: Emulators,
  options: { summarize: string[]; anthropicUrl?: string; anthropicTimeoutMs?: number; anthropicModel?: string; breaker?: string },
): string {
  const model = options.anthropicModel !== undefined ? `, model: "${options.anthropicModel}"` : '';
  return `
router:
  tasks:
    summarize: [${options.summarize.join(', ')}]
  ${options.breaker ?? ''}
plugins:
  local: { enabled: false }
  anthropic: { enabled: ${options.anthropicUrl !== undefined}, config: { base_url: "${options.anthropicUrl ?? 'http://127.0.0.1:9'}", timeout_ms: ${options.anthropicTimeoutMs ?? 60_000}${model} } }
  openai-compatible: { enabled: true, config: { base_url: "${urls.openai}" } }
`;
}

let sequence = 0;
const request = (): TaskRequest => ({
  system: 'Summarize the conversation in three sentences.',
  turns: [{ role: 'user', content: `[1] alice: the deploy is done, ping me at alice@example.com\n[2] bob: thanks (${sequence++})` }],
  maxTokens: 256,
});
const ctx = () => ({ task: 'summarize' as const, guildId: 'bench-guild', userId: 'bench-user', correlationId: `bench-${sequence}` });

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** An in-process provider: answers at once, or fails every call as overloaded. */
function inProcessProvider(name: 'instant' | 'overloaded'): Provider {
  const models = [{ id: 'm', contextWindow: 200_000, maxOutputTokens: 4_096, streaming: true, inputPricePerMTok: 1, outputPricePerMTok: 5 }];
  const answer = async (r: GenerateRequest) => {
    if (name === 'overloaded') throw new ProviderError('overloaded', 'overloaded', { provider: name, model: r.model, status: 529 });
    return { text: 'Done.', finishReason: 'stop' as const, usage: { inputTokens: 40, outputTokens: 2 }, provider: name, model: r.model };
  };
  return {
    name,
    models,
    requiresKey: false,
    generate: answer,
    async *stream() {
      throw new Error('not used');
    },
    health: async () => ({ ok: true }),
  };
}

/** The router composed as the service composes it, over in-process providers tried in the given order. */
function inProcessRouter(
  order: Array<'instant' | 'overloaded'>,
  breaker: { failureThreshold: number; failureWindowMs: number; coolDownMs?: number } = { failureThreshold: 1_000_000_000, failureWindowMs: 1 },
): Router {
  const providers = new Map(order.map((n) => [n, inProcessProvider(n)] as const));
  const targets = order.map((provider) => ({ provider, model: 'm' }));
  return createRouter({
    providers: { getProvider: (name) => providers.get(name as 'instant') },
    plan: () => targets,
    keys: createKeyResolver({ guildKey: () => undefined, operatorKey: () => undefined, mayUseOperatorKey: () => true }),
    spendGuard: createSpendGuard({ store: { spentToday: async () => 0, budgetFor: () => 1_000 }, clock: systemClock }),
    usage: { record: () => undefined },
    metrics: createRouterMetrics(new Registry()),
    clock: systemClock,
    random: Math.random,
    logger: quiet,
    options: { breaker },
  });
}

/** Wall time of each routed call, in order; with an instant provider this is the router's own span. */
async function routedTimes(router: Router, calls: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < calls; i++) times.push(await timed(() => router.generate(request(), ctx())));
  return times;
}

function option(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(`--${name}`);
  const value = at === -1 ? undefined : Number(args[at + 1]);
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

export async function run(args: string[]): Promise<void> {
  const overheadCalls = Math.max(1_000, Math.floor(option(args, 'overhead-calls', 20_000)));
  const seconds = option(args, 'seconds', 10);
  const concurrency = Math.floor(option(args, 'concurrency', 200));
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-router-'));
  const emulators = await startEmulators();
  const rigs: Rig[] = [];
  try {
    const { urls } = emulators;

    // ---- overhead: the router's own span around a provider that answers at once --------------
    const single = inProcessRouter(['instant']);
    await routedTimes(single, 2_000);
    const overhead = await routedTimes(single, overheadCalls);
    report('router-overhead-p50', quantile(overhead, 0.5), 'ms');
    report('router-overhead-p99', quantile(overhead, 0.99), 'ms');

    // ---- failover: in-process primary answers 529 on every call; its breaker never opens ----
    const failover = inProcessRouter(['overloaded', 'instant']);
    await routedTimes(failover, 2_000);
    const fo = await routedTimes(failover, 10_000);
    const base = await routedTimes(single, 10_000);
    report('failover-added', Math.max(0, quantile(fo, 0.5) - quantile(base, 0.5)), 'ms');

    // ---- a retired model on the primary (emulator 404 not_found_error): the secondary serves --
    const retired = await rig(
      dir,
      'retired',
      pluginsConfig(urls, {
        summarize: ['anthropic/claude-3-opus-20240229', `${SECONDARY}/${SECONDARY_MODEL}`],
        anthropicUrl: urls.anthropic,
        anthropicModel: 'claude-3-opus-20240229',
      }),
    );
    rigs.push(retired);
    const served = await retired.router.generate(request(), ctx()).catch(() => undefined);
    const retiredOk =
      served?.provider === SECONDARY && served.attempts[0]?.reason === 'model_unavailable' && served.attempts[0]?.status === 'failed';
    process.stdout.write(`fallback-on-retired-model: ${retiredOk ? 'ok' : 'failed'}\n`);

    const plain = await rig(dir, 'plain', pluginsConfig(urls, { summarize: [`${SECONDARY}/${SECONDARY_MODEL}`] }));
    rigs.push(plain);

    // ---- breaker open: the in-process primary fails until its circuit opens and stays open ----
    const open = inProcessRouter(['overloaded', 'instant'], { failureThreshold: 3, failureWindowMs: 60_000, coolDownMs: 3_600_000 });
    for (let i = 0; i < 3; i++) await open.generate(request(), ctx());
    const state = open.circuits().find((c) => c.target === 'overloaded/m')?.state;
    if (state !== 'open') throw new Error(`the primary's circuit should be open after 3 failures (it is ${String(state)})`);
    await routedTimes(open, 2_000);
    const bo = await routedTimes(open, 10_000);
    const plainSpan = await routedTimes(single, 10_000);
    report('breaker-open-added-p99', Math.max(0, quantile(bo, 0.99) - quantile(plainSpan, 0.99)), 'ms');

    // ---- throughput at `concurrency` callers, with the event loop watched -------------------
    const lag = monitorEventLoopDelay({ resolution: 10 });
    const until = performance.now() + seconds * 1_000;
    let done = 0;
    let failed = 0;
    const before = plain.recorded();
    lag.enable();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < until) {
          try {
            await plain.router.generate(request(), ctx());
            done++;
          } catch {
            failed++;
          }
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1_000;
    lag.disable();
    if (failed > 0) process.stderr.write(`router-throughput: ${failed} calls failed\n`);
    if (plain.recorded() - before !== done + failed) process.stderr.write('router-throughput: usage records do not match the calls\n');
    report('router-throughput', Math.round(done / elapsed), 'requests/s');
    report('router-loop-lag-p99', lag.percentile(99) / 1e6, 'ms');

    await budgetFigures();
    // ---- limits and shared state across processes, on real Postgres -------------------------
    await runSharedFigures(urls.openai);
  } finally {
    for (const r of rigs) await r.close().catch(() => undefined);
    emulators.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
