import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtInConfig } from '../../src/llm/plugin-host/built-in-config.ts';
import { parseConfigText } from '../../src/llm/plugin-host/config-file.ts';
import { discoverPlugins } from '../../src/llm/plugin-host/discover.ts';
import { planPlugins } from '../../src/llm/plugin-host/plan.ts';
import { PluginConfigError } from '../../src/llm/plugin-host/problems.ts';

const FILE = 'plugins.yaml';
const BASIC = path.join(import.meta.dirname, 'fixtures', 'sets', 'basic');

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof PluginConfigError) return error.message.split('\n');
    throw error;
  }
  throw new Error('expected a PluginConfigError');
}

describe('parseConfigText', () => {
  it('fills every router default from an empty file', () => {
    const { config } = parseConfigText('', FILE, {});
    expect(config).toEqual({
      router: {
        tasks: {},
        groups: {},
        strategy: {},
        breaker: { failure_threshold: 5, failure_window_ms: 60_000, cool_down_ms: 30_000 },
        timeouts: { connect_ms: 10_000, first_token_ms: 30_000, total_ms: 120_000 },
        retry: { max_rounds: 2, base_ms: 500, max_ms: 8_000 },
      },
      plugins: {},
    });
    expect(builtInConfig([], {}).config).toEqual(config);
  });

  it('substitutes ${VAR} and ${VAR:default}, typing unquoted whole references', () => {
    const text = [
      'router:',
      '  tasks:',
      '    summarize: [local/local-extractive, "anthropic/${MODEL:claude-haiku-4-5}"]',
      '  timeouts:',
      '    total_ms: ${TOTAL_MS:90000}',
      'plugins:',
      '  alpha:',
      '    enabled: ${ALPHA_ON:true}',
      '    config:',
      '      label: "${LABEL}"',
      '      retries: ${RETRIES}',
      '      note: "cost $${HOME} stays literal, ${EMPTY:fallback} and ${SET_EMPTY}!"',
    ].join('\n');
    const { config } = parseConfigText(text, FILE, { LABEL: 'v1', RETRIES: '7', EMPTY: '', SET_EMPTY: '', MODEL: undefined });
    expect(config.router.tasks.summarize).toEqual(['local/local-extractive', 'anthropic/claude-haiku-4-5']);
    expect(config.router.timeouts.total_ms).toBe(90_000);
    expect(config.plugins.alpha).toEqual({
      enabled: true,
      config: { label: 'v1', retries: 7, note: 'cost ${HOME} stays literal, fallback and !' },
    });
  });

  it('keeps a quoted reference a string, and never lets a value inject YAML', () => {
    const { config } = parseConfigText('plugins:\n  alpha:\n    config:\n      label: "${N}"\n      other: ${EVIL}\n', FILE, {
      N: '42',
      EVIL: 'x\n    enabled: false',
    });
    expect(config.plugins.alpha?.config).toEqual({ label: '42', other: 'x\n    enabled: false' });
    expect(config.plugins.alpha?.enabled).toBe(true);
  });

  it('names an unset variable with file, line and column, and every such problem at once', () => {
    const text = 'plugins:\n  alpha:\n    config:\n      label: ${MISSING_LABEL}\n      retries: ${ALSO_MISSING}\n';
    expect(problemsOf(() => parseConfigText(text, FILE, {}))).toEqual([
      'plugins.yaml:4:14: environment variable MISSING_LABEL is not set (use ${MISSING_LABEL:default} to give a default)',
      'plugins.yaml:5:16: environment variable ALSO_MISSING is not set (use ${ALSO_MISSING:default} to give a default)',
    ]);
  });

  it('rejects malformed references', () => {
    expect(problemsOf(() => parseConfigText('plugins:\n  a:\n    config: { x: "${1BAD}", y: "${OPEN" }\n', FILE, {}))).toEqual([
      'plugins.yaml:3:18: "${1BAD}" is not a valid variable reference (expected ${NAME} or ${NAME:default})',
      'plugins.yaml:3:32: unterminated "${" (write "$${" for a literal "${")',
    ]);
  });

  it('rejects unknown keys and bad values without echoing values', () => {
    const text = ['router:', '  breaker:', '    failure_treshold: 3', '    cool_down_ms: -5', '  tasks:', '    summarize: [nomodel]', '    summarise: []'].join('\n');
    expect(problemsOf(() => parseConfigText(text, FILE, {}))).toEqual([
      'plugins.yaml:7:5: unknown field "router.tasks.summarise"',
      'plugins.yaml:4:19: field "router.breaker.cool_down_ms" must be a positive number of milliseconds (got number)',
      'plugins.yaml:3:5: unknown field "router.breaker.failure_treshold"',
      'plugins.yaml:6:17: field "router.tasks.summarize.0" must be "provider/model" or the name of a group under router.groups (groups: none) (got string)',
    ]);
  });
});

describe('planPlugins', () => {
  const discovered = () => discoverPlugins({ pluginsDir: BASIC, displayRoot: BASIC });

  it('names an unknown plugin and lists the known ones', async () => {
    const plugins = await discovered();
    const doc = parseConfigText('plugins:\n  alpah:\n    enabled: true\n', FILE, {});
    expect(problemsOf(() => planPlugins(plugins, doc, {}))).toEqual([
      'plugins.yaml:2:3: unknown plugin "alpah" (known plugins: alpha, beta, broken, delta, flaky, gamma, import-fails, needs-thrower, sleepy, thrower, wrong-kind)',
    ]);
  });

  it('checks settings against the manifest: unknown names, types, defaults', async () => {
    const plugins = await discovered();
    const bad = parseConfigText('plugins:\n  alpha:\n    config:\n      labl: x\n      retries: "3"\n', FILE, {});
    expect(problemsOf(() => planPlugins(plugins, bad, {}))).toEqual([
      'plugins.yaml:4:7: plugin "alpha": unknown setting "labl" (known settings: label, retries)',
      'plugins.yaml:5:7: plugin "alpha": setting "retries" must be a number (got string)',
    ]);
    const good = parseConfigText('plugins:\n  alpha:\n    config: { label: hi }\n', FILE, {});
    const plan = planPlugins(plugins, good, {});
    expect(plan.plugins.find((plugin) => plugin.discovered.name === 'alpha')?.settings).toEqual({ label: 'hi', retries: 2 });
  });

  it('only enables listed plugins (and the built-in defaults), and checks router targets', async () => {
    const plugins = await discovered();
    const doc = parseConfigText(
      'router:\n  tasks:\n    chat: [alpha/echo-1, beta/x, thrower/y, nobody/z]\nplugins:\n  alpha: {}\n  beta: {}\n',
      FILE,
      {},
    );
    expect(problemsOf(() => planPlugins(plugins, doc, {}))).toEqual([
      'plugins.yaml:3:26: router target "beta/x" for chat: plugin "beta" is a processor, not a provider',
      'plugins.yaml:3:34: router target "thrower/y" for chat: plugin "thrower" is not enabled',
      'plugins.yaml:3:45: router target "nobody/z" for chat: no provider named "nobody" is enabled (enabled providers: alpha)',
    ]);
  });

  it('routes unconfigured tasks to the enabled providers in the built-in order', async () => {
    const plugins = await discovered();
    const plan = planPlugins(plugins, parseConfigText('router:\n  tasks:\n    chat: [alpha/echo-1]\nplugins:\n  alpha: {}\n', FILE, {}), {});
    // None of anthropic / openai-compatible / local is installed in this fixture set, so only the configured task has targets.
    expect(plan.router.tasks).toEqual({ summarize: [], 'summarize-map': [], chat: ['alpha/echo-1'] });
  });
});

describe('hostile YAML', () => {
  it('refuses absurdly deep nesting with a located error instead of recursing', async () => {
    const { parseYamlSource } = await import('../../src/llm/plugin-host/yaml-source.ts');
    const source = parseYamlSource(`${'- '.repeat(5000)}x\n`, 'plugins.yaml');
    expect(source.problems[0]?.message).toMatch(/nested more than 64 levels/);
  });
});

describe('model groups, strategies and fallback_on', () => {
  const discovered = () => discoverPlugins({ pluginsDir: BASIC, displayRoot: BASIC });

  it('parses groups with weights and keys, per-task strategies and fallback_on', () => {
    const text = [
      'router:',
      '  groups:',
      '    fast:',
      '      - { target: alpha/echo-1, weight: 3 }',
      '      - { target: alpha/echo-1, api_key_env: ALPHA_KEY_2 }',
      '  tasks:',
      '    chat: [fast, alpha/echo-2]',
      '  strategy: { chat: least-busy, summarize: latency }',
      '  fallback_on: [429, 500, 502, 503, 504, 529]',
    ].join('\n');
    const { config } = parseConfigText(text, FILE, {});
    expect(config.router.groups).toEqual({
      fast: [
        { target: 'alpha/echo-1', weight: 3 },
        { target: 'alpha/echo-1', weight: 1, api_key_env: 'ALPHA_KEY_2' },
      ],
    });
    expect(config.router.tasks.chat).toEqual(['fast', 'alpha/echo-2']);
    expect(config.router.strategy).toEqual({ chat: 'least-busy', summarize: 'latency' });
    expect(config.router.fallback_on).toEqual([429, 500, 502, 503, 504, 529]);
  });

  it('refuses bad strategies, statuses, weights, key names and unknown groups with their lines', () => {
    const text = [
      'router:',
      '  groups:',
      '    fast:',
      '      - { target: alpha/echo-1, weight: 0 }',
      '      - { target: alpha/echo-1, api_key_env: sk-live-abc }',
      '  tasks:',
      '    chat: [fats]',
      '  strategy: { chat: fastest }',
      '  fallback_on: [429, 200, 429]',
    ].join('\n');
    const problems = problemsOf(() => parseConfigText(text, FILE, {}));
    expect(problems).toContain('plugins.yaml:4:41: field "router.groups.fast.0.weight" must be a positive number (got number)');
    expect(problems).toContain(
      'plugins.yaml:5:46: field "router.groups.fast.1.api_key_env" must be the NAME of an environment variable (upper case, digits, "_"), not the key itself (got string)',
    );
    expect(problems).toContain('plugins.yaml:8:21: field "router.strategy.chat" must be one of ordered, least-busy, latency (got string)');
    expect(problems).toContain('plugins.yaml:9:22: field "router.fallback_on.1" must be an HTTP error status (400-599) (got number)');
    expect(problems).toContain('plugins.yaml:9:16: field "router.fallback_on" must not list a status twice (got array)');
    // The would-be key is never echoed.
    expect(problems.join('\n')).not.toContain('sk-live-abc');
    const unknownGroup = 'router:\n  groups:\n    fast: [{ target: alpha/echo-1 }]\n  tasks:\n    chat: [fats]\n';
    expect(problemsOf(() => parseConfigText(unknownGroup, FILE, {}))).toEqual([
      'plugins.yaml:5:12: field "router.tasks.chat.0" must be "provider/model" or the name of a group under router.groups (groups: fast) (got string)',
    ]);
  });

  it('checks each deployment against the enabled providers and its key variable against the environment', async () => {
    const plugins = await discovered();
    const text = [
      'router:',
      '  groups:',
      '    fast:',
      '      - { target: alpha/echo-1, api_key_env: ALPHA_KEY_2 }',
      '      - { target: nobody/x }',
      '  tasks:',
      '    chat: [fast]',
      'plugins:',
      '  alpha: {}',
    ].join('\n');
    const doc = parseConfigText(text, FILE, {});
    expect(problemsOf(() => planPlugins(plugins, doc, {}))).toEqual([
      'plugins.yaml:4:46: group "fast" deployment "alpha/echo-1": environment variable ALPHA_KEY_2 (its API key) is not set',
      'plugins.yaml:5:19: group "fast" deployment "nobody/x": no provider named "nobody" is enabled (enabled providers: alpha)',
    ]);
    const good = parseConfigText(text.replace('nobody/x', 'alpha/echo-2'), FILE, {});
    const plan = planPlugins(plugins, good, { ALPHA_KEY_2: 'k2-0123456789' });
    expect(plan.router.tasks.chat).toEqual(['fast']);
    expect(plan.router.groups.fast).toHaveLength(2);
  });
});
