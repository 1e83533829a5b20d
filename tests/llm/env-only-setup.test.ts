/**
 * The env-only setup: no PLUGINS_CONFIG, just OPENAI_BASE_URL/OPENAI_MODEL
 * (an Ollama-style server) or ANTHROPIC_BASE_URL/ANTHROPIC_MODEL. The
 * built-in config, the real planner and loader, the real plugins and a real
 * router, against the emulators on loopback.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { builtInConfig, envSettings } from '../../src/llm/plugin-host/built-in-config.ts';
import type { PluginManifest } from '../../src/llm/plugin-host/types.ts';
import { parseSettings as anthropicSettings } from '../../plugins/anthropic/settings.ts';
import { parseSettings as openAISettings } from '../../plugins/openai-compatible/settings.ts';
import { discoverPlugins } from '../../src/llm/plugin-host/discover.ts';
import type { Environment } from '../../src/llm/plugin-host/env-substitution.ts';
import { loadPluginSet } from '../../src/llm/plugin-host/loader.ts';
import { planPlugins } from '../../src/llm/plugin-host/plan.ts';
import type { PluginSet } from '../../src/llm/plugin-host/plugin-set.ts';
import { systemClock } from '../../src/resilience/clock.ts';
import { createKeyResolver } from '../../src/llm/router/key-resolver.ts';
import { createRouter, type Router } from '../../src/llm/router/router.ts';
import { createSpendGuard } from '../../src/llm/router/spend-guard.ts';
import type { UsageRecord } from '../../src/llm/router/types.ts';
import { DEFAULT_PLUGINS_DIR, createLlmService } from '../../src/llm/service.ts';
import { createMetricsRegistry } from '../../src/metrics/registry.ts';
import { createPgliteDatabase } from '../helpers/databases.ts';
import { createGuildPlan } from '../../src/llm/target-plan.ts';
import { start as startAnthropic } from '../emulators/anthropic/server.ts';
import { start as startOpenAI } from '../emulators/openai/server.ts';
import { MemoryLogger, ask, createVault, ctx } from './support.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** What the plugin host does without PLUGINS_CONFIG, given the environment. */
async function routerFromEnv(env: Environment): Promise<{ router: Router; set: PluginSet; usage: UsageRecord[] }> {
  const logger = new MemoryLogger();
  const discovered = await discoverPlugins({ pluginsDir: DEFAULT_PLUGINS_DIR, displayRoot: DEFAULT_PLUGINS_DIR });
  const plan = planPlugins(discovered, builtInConfig(discovered, env), env);
  const set = await loadPluginSet(plan, { env, logger, crashThreshold: 3, loadTimeoutMs: 10_000, healthTimeoutMs: 5_000 });
  cleanups.push(() => set.closeNow());
  const usage: UsageRecord[] = [];
  const guildPlan = createGuildPlan({ routerConfig: () => set.router, providerOrder: () => undefined });
  const operatorKey = (provider: string) => (provider === 'anthropic' ? env.ANTHROPIC_API_KEY : env.OPENAI_API_KEY);
  const router = createRouter({
    providers: set,
    plan: guildPlan.plan,
    keys: createKeyResolver({ guildKey: () => undefined, operatorKey, mayUseOperatorKey: () => true }),
    spendGuard: createSpendGuard({ store: { spentToday: async () => 0, budgetFor: () => null }, clock: systemClock }),
    usage: { record: (entry) => void usage.push(entry) },
    clock: systemClock,
    random: Math.random,
    logger,
  });
  return { router, set, usage };
}

async function repositoryManifests(): Promise<{ anthropic: PluginManifest; 'openai-compatible': PluginManifest }> {
  const discovered = await discoverPlugins({ pluginsDir: DEFAULT_PLUGINS_DIR, displayRoot: DEFAULT_PLUGINS_DIR });
  const manifest = (name: string): PluginManifest => {
    const found = discovered.find((plugin) => plugin.name === name)?.manifest;
    if (found === undefined) throw new Error(`plugins/${name} has no valid manifest`);
    return found;
  };
  return { anthropic: manifest('anthropic'), 'openai-compatible': manifest('openai-compatible') };
}

describe('env-only setup (no PLUGINS_CONFIG)', () => {
  it('reaches an Ollama-style server from OPENAI_BASE_URL and OPENAI_MODEL alone, without a key, at no cost', async () => {
    const ollama = await startOpenAI({ keys: null, models: ['llama3.2'] });
    cleanups.push(() => ollama.close());
    const { router, set, usage } = await routerFromEnv({ OPENAI_BASE_URL: ollama.baseUrl, OPENAI_MODEL: 'llama3.2' });

    expect(set.router.tasks.summarize).toEqual(['openai-compatible/llama3.2', 'local/local-extractive']);
    expect(set.getProvider('openai-compatible')?.models).toEqual([
      { id: 'llama3.2', contextWindow: 8_192, maxOutputTokens: 4_096, streaming: true, inputPricePerMTok: 0, outputPricePerMTok: 0 },
    ]);
    const res = await router.generate(ask('What happened today?'), ctx(undefined));

    expect(res).toMatchObject({ provider: 'openai-compatible', model: 'llama3.2', costUsd: 0 });
    expect(res.text).toContain('Echo of');
    expect(ollama.completions()).toHaveLength(1);
    expect(ollama.completions()[0]).toMatchObject({ authPresent: false, call: { model: 'llama3.2' } });
    expect(usage.map((u) => u.outcome)).toEqual(['ok']);
  });

  it('takes the context window of a self-hosted model from OPENAI_CONTEXT_WINDOW', async () => {
    const vllm = await startOpenAI({ keys: null, models: ['qwen2.5-32b'] });
    cleanups.push(() => vllm.close());
    const { set } = await routerFromEnv({ OPENAI_BASE_URL: vllm.baseUrl, OPENAI_MODEL: 'qwen2.5-32b', OPENAI_CONTEXT_WINDOW: '32768' });
    expect(set.getProvider('openai-compatible')?.models[0]).toMatchObject({ id: 'qwen2.5-32b', contextWindow: 32_768, maxOutputTokens: 4_096 });
  });

  it('reaches Anthropic at ANTHROPIC_BASE_URL with the model from ANTHROPIC_MODEL', async () => {
    const emu = await startAnthropic({ keys: { operator: 'sk-ant-env-only-0001' } });
    cleanups.push(() => emu.close());
    const { router, set } = await routerFromEnv({
      ANTHROPIC_API_KEY: 'sk-ant-env-only-0001',
      ANTHROPIC_BASE_URL: emu.baseUrl,
      ANTHROPIC_MODEL: 'claude-haiku-4-5',
    });

    expect(set.router.tasks.chat).toEqual(['anthropic/claude-haiku-4-5', 'local/local-extractive']);
    const res = await router.generate(ask('hello'), ctx(undefined, 'u', 'chat'));

    expect(res).toMatchObject({ provider: 'anthropic', model: 'claude-haiku-4-5' });
    // Haiku's own list prices, not a guess.
    expect(res.costUsd).toBeCloseTo((res.usage.inputTokens * 1 + res.usage.outputTokens * 5) / 1_000_000, 12);
    expect(emu.completions()[0]).toMatchObject({ keyLabel: 'operator', call: { model: 'claude-haiku-4-5' } });
  });

  it('prices a hosted model it does not know like the plugin’s default, so budgets keep counting', async () => {
    const manifests = await repositoryManifests();
    const anthropic = envSettings(manifests.anthropic, { ANTHROPIC_MODEL: 'claude-next' });
    expect(anthropic).toEqual({ model: 'claude-next' });
    expect(anthropicSettings(anthropic ?? {}).models).toEqual(
      expect.arrayContaining([
        { id: 'claude-next', contextWindow: 200_000, maxOutputTokens: 64_000, inputPricePerMTok: 3, outputPricePerMTok: 15, streaming: true, temperature: { max: 1 } },
        expect.objectContaining({ id: 'claude-sonnet-4-6' }),
      ]),
    );
    expect(openAISettings(envSettings(manifests['openai-compatible'], { OPENAI_MODEL: 'gpt-4o-mini' }) ?? {}).models).toEqual(openAISettings({}).models);
    expect(envSettings(manifests['openai-compatible'], {})).toBeUndefined();
    expect(envSettings(manifests.anthropic, { ANTHROPIC_BASE_URL: ' ', ANTHROPIC_MODEL: '' })).toBeUndefined();
  });

  it('leaves a plugin off when only its settings are given (Anthropic still needs its key)', async () => {
    const discovered = await discoverPlugins({ pluginsDir: DEFAULT_PLUGINS_DIR, displayRoot: DEFAULT_PLUGINS_DIR });
    const doc = builtInConfig(discovered, { ANTHROPIC_BASE_URL: 'http://127.0.0.1:1' });
    expect(doc.config.plugins.anthropic).toEqual({ enabled: false, config: { base_url: 'http://127.0.0.1:1' } });
    expect(builtInConfig(discovered, {}).config.plugins).toEqual({});
  });

  it('refuses a variable that cannot fill its setting, naming the variable and not echoing the value', async () => {
    const discovered = await discoverPlugins({ pluginsDir: DEFAULT_PLUGINS_DIR, displayRoot: DEFAULT_PLUGINS_DIR });
    expect(() => builtInConfig(discovered, { OPENAI_BASE_URL: 'http://127.0.0.1:1', OPENAI_CONTEXT_WINDOW: 'lots-of-tokens' })).toThrow(
      /OPENAI_CONTEXT_WINDOW \(setting "context_window" of plugin "openai-compatible"\) must be a number/,
    );
  });

  it('reports a malformed OPENAI_BASE_URL as a plugin failure naming the setting', async () => {
    const { set } = await routerFromEnv({ OPENAI_BASE_URL: 'not a url', OPENAI_MODEL: 'llama3.2' });
    const status = (await set.statuses()).find((s) => s.name === 'openai-compatible');
    expect(status).toMatchObject({ state: 'error' });
    expect(status?.reason).toMatch(/openai-compatible config: base_url:/);
    expect(set.getProvider('local')).toBeDefined();
  });

  it('works the same through the plugin host and createLlmService, as the app builds it', async () => {
    const ollama = await startOpenAI({ keys: null, models: ['llama3.2'] });
    cleanups.push(() => ollama.close());
    const database = await createPgliteDatabase();
    cleanups.push(() => database.close());
    const service = await createLlmService({
      env: { OPENAI_BASE_URL: ollama.baseUrl, OPENAI_MODEL: 'llama3.2' },
      db: database.db,
      vault: await createVault(database.db),
      logger: new MemoryLogger(),
      metrics: createMetricsRegistry({ defaultMetrics: false }),
      clock: systemClock,
    });
    cleanups.push(() => service.close());
    expect(service.enabledProviders()).toEqual(['openai-compatible', 'local']);
    const res = await service.router.generate(ask('What happened today?'), ctx(undefined));
    expect(res).toMatchObject({ provider: 'openai-compatible', model: 'llama3.2', costUsd: 0 });
    expect(ollama.completions()[0]).toMatchObject({ authPresent: false, call: { model: 'llama3.2' } });
  });
});
