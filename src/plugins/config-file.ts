/**
 * The plugins config file (`PLUGINS_CONFIG`, see plugins.example.yaml): which
 * plugins run with which settings, and the router's targets, breaker,
 * timeouts and retries. When no file is given, `builtInConfig` stands in.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { issuesToProblems } from './describe-issue.ts';
import type { Environment } from './env-substitution.ts';
import { substituteEnvironment } from './env-substitution.ts';
import { PLUGIN_NAME_PATTERN } from './manifest.ts';
import { PluginConfigError, typeName } from './problems.ts';
import { parseYamlSource } from './yaml-source.ts';
import type { ModelInfo } from '../providers/contract.ts';
// The built-in model lists belong to the plugins; the env-only setup below has to know them.
import { DEFAULT_MODELS as ANTHROPIC_MODELS } from '../../plugins/anthropic/settings.ts';
import { DEFAULT_MODELS as OPENAI_MODELS } from '../../plugins/openai-compatible/settings.ts';

export const MAX_CONFIG_BYTES = 256 * 1024;
export const BUILT_IN_CONFIG_FILE = '<built-in defaults>';

export const ROUTED_TASKS = ['summarize', 'summarize-map', 'chat'] as const;
export type RoutedTask = (typeof ROUTED_TASKS)[number];

const positiveInt = (what: string) => z.int(`must be a whole number of ${what}`).positive(`must be a positive number of ${what}`);

const target = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}\/\S{1,200}$/, 'must be "provider/model", e.g. "local/local-extractive"');
const targetList = z.array(target).min(1, 'must list at least one "provider/model" target');

const routerSchema = z
  .object({
    /** Ordered fallbacks per task; tasks left out get the built-in order of the enabled providers. */
    tasks: z
      .object({ summarize: targetList.optional(), 'summarize-map': targetList.optional(), chat: targetList.optional() })
      .strict()
      .prefault({}),
    breaker: z
      .object({
        failure_threshold: positiveInt('failures').default(5),
        failure_window_ms: positiveInt('milliseconds').default(60_000),
        cool_down_ms: positiveInt('milliseconds').default(30_000),
      })
      .strict()
      .prefault({}),
    timeouts: z
      .object({
        connect_ms: positiveInt('milliseconds').default(10_000),
        first_token_ms: positiveInt('milliseconds').default(30_000),
        total_ms: positiveInt('milliseconds').default(120_000),
      })
      .strict()
      .prefault({}),
    retry: z
      .object({
        max_rounds: z.int('must be a whole number').min(0, 'must not be negative').max(10, 'must be at most 10').default(2),
        base_ms: positiveInt('milliseconds').default(500),
        max_ms: positiveInt('milliseconds').default(8_000),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

const pluginEntry = z.preprocess(
  // `local:` with nothing under it means "enabled, default settings".
  (value) => (value === null ? {} : value),
  z
    .object({
      enabled: z.boolean().default(true),
      config: z.preprocess((value) => (value === null ? {} : value), z.record(z.string(), z.unknown())).default({}),
    })
    .strict(),
);

export const pluginsConfigSchema = z
  .object({
    router: routerSchema,
    plugins: z
      .record(z.string().regex(PLUGIN_NAME_PATTERN, 'must be a plugin name (lowercase letters, digits and "-")'), pluginEntry)
      .default({}),
  })
  .strict();

export type PluginsConfig = z.output<typeof pluginsConfigSchema>;
export type RouterConfig = PluginsConfig['router'];
export type PluginEntryConfig = PluginsConfig['plugins'][string];

/** A parsed config plus where it came from, so later checks can still point at lines. */
export interface ConfigDocument {
  file: string;
  config: PluginsConfig;
  locate(path: readonly PropertyKey[], which?: 'key' | 'value'): { line: number; column: number } | undefined;
}

/** Parses config text; throws PluginConfigError listing every problem. */
export function parseConfigText(text: string, file: string, env: Environment): ConfigDocument {
  const source = parseYamlSource(text, file);
  if (source.problems.length > 0) throw new PluginConfigError(source.problems);
  const substitutionProblems = substituteEnvironment(source, env);
  if (substitutionProblems.length > 0) throw new PluginConfigError(substitutionProblems);
  const plain = source.toJS();
  if (!plain.ok) throw new PluginConfigError([plain.problem]);
  // An empty file is an empty config: every default applies.
  const value = plain.value ?? {};
  if (typeName(value) !== 'object') {
    throw new PluginConfigError([{ file, line: 1, column: 1, message: `config must be a YAML mapping (got ${typeName(value)})` }]);
  }
  const parsed = pluginsConfigSchema.safeParse(value);
  if (!parsed.success) {
    throw new PluginConfigError(issuesToProblems(parsed.error.issues, value, source, { echoValues: false }));
  }
  return { file, config: parsed.data, locate: source.locate };
}

export async function loadConfigFile(filePath: string, env: Environment, displayRoot: string): Promise<ConfigDocument> {
  const file = path.relative(displayRoot, filePath) || filePath;
  let bytes: Buffer;
  try {
    bytes = await readFile(filePath);
  } catch (error) {
    throw new PluginConfigError([{ file, message: `cannot read the plugins config (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` }]);
  }
  if (bytes.length > MAX_CONFIG_BYTES) {
    throw new PluginConfigError([{ file, message: `plugins config is larger than ${MAX_CONFIG_BYTES} bytes` }]);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new PluginConfigError([{ file, message: 'plugins config is not valid UTF-8' }]);
  }
  return parseConfigText(text, file, env);
}

/** Whether a plugin runs when the config file does not mention it (or there is no file). */
export function enabledByDefault(name: string, env: Environment): boolean {
  switch (name) {
    case 'local':
    case 'pii-redactor':
      return true;
    case 'anthropic':
      return isSet(env.ANTHROPIC_API_KEY);
    case 'openai-compatible':
      return isSet(env.OPENAI_API_KEY) || isSet(env.OPENAI_BASE_URL);
    default:
      return false;
  }
}

/**
 * The config used when PLUGINS_CONFIG is unset: router defaults, plugins
 * enabled by `enabledByDefault`, and the env-only setup of the two keyed
 * providers (see `envOnlySettings`), so `OPENAI_BASE_URL` + `OPENAI_MODEL`
 * alone reach, say, a local Ollama.
 */
export function builtInConfig(env: Environment = {}): ConfigDocument {
  const plugins: Record<string, unknown> = {};
  for (const name of ['anthropic', 'openai-compatible'] as const) {
    const config = envOnlySettings(name, env);
    // Only the settings are filled in: whether the plugin runs stays `enabledByDefault`'s call.
    if (config !== undefined) plugins[name] = { enabled: enabledByDefault(name, env), config };
  }
  return { file: BUILT_IN_CONFIG_FILE, config: pluginsConfigSchema.parse({ plugins }), locate: () => undefined };
}

/** Models the keyed plugins list when not configured (their ids, windows and list prices), from the plugins themselves. */
const BUILT_IN_MODELS = {
  anthropic: ANTHROPIC_MODELS,
  'openai-compatible': OPENAI_MODELS,
} as const;

/** Default context window assumed for a model served from OPENAI_BASE_URL (Ollama's own default is smaller still). */
export const DEFAULT_SELF_HOSTED_WINDOW = 8_192;

/**
 * Settings from `<PREFIX>_BASE_URL` and `<PREFIX>_MODEL` (ANTHROPIC_, OPENAI_):
 *
 * - the base URL becomes `base_url`;
 * - a model the plugin already lists needs nothing, unless a custom OpenAI
 *   base URL is set: then that server offers only the named model;
 * - any other model gets an entry. From a custom OpenAI-style base URL
 *   (Ollama, vLLM: self-hosted) it costs nothing and its window is
 *   `OPENAI_CONTEXT_WINDOW` (default 8,192). Otherwise (a hosted API) its
 *   window and prices are estimated as those of the plugin's first built-in
 *   model, so budgets keep counting; set exact figures in PLUGINS_CONFIG.
 */
export function envOnlySettings(plugin: 'anthropic' | 'openai-compatible', env: Environment): Record<string, unknown> | undefined {
  const prefix = plugin === 'anthropic' ? 'ANTHROPIC' : 'OPENAI';
  const baseUrl = env[`${prefix}_BASE_URL`]?.trim() || undefined;
  const model = env[`${prefix}_MODEL`]?.trim() || undefined;
  if (baseUrl === undefined && model === undefined) return undefined;
  const config: Record<string, unknown> = {};
  if (baseUrl !== undefined) config.base_url = baseUrl;
  if (model === undefined) return config;

  const builtIn = BUILT_IN_MODELS[plugin];
  const known = builtIn.find((m) => m.id === model);
  const selfHosted = plugin === 'openai-compatible' && baseUrl !== undefined;
  if (known !== undefined && !selfHosted) return config;
  if (known !== undefined) {
    config.models = [modelEntry(known)];
  } else if (selfHosted) {
    const window = positiveWhole(env.OPENAI_CONTEXT_WINDOW) ?? DEFAULT_SELF_HOSTED_WINDOW;
    config.models = [
      { id: model, context_window: window, max_output_tokens: Math.max(256, Math.min(4_096, Math.floor(window / 2))), input_price: 0, output_price: 0 },
    ];
  } else {
    const like = builtIn[0];
    config.models = [...builtIn.map(modelEntry), ...(like ? [{ ...modelEntry(like), id: model }] : [])];
  }
  return config;
}

function modelEntry(m: ModelInfo): Record<string, unknown> {
  return {
    id: m.id,
    context_window: m.contextWindow,
    max_output_tokens: m.maxOutputTokens,
    input_price: m.inputPricePerMTok,
    output_price: m.outputPricePerMTok,
    streaming: m.streaming,
  };
}

function positiveWhole(value: string | undefined): number | undefined {
  const n = value === undefined || value.trim() === '' ? Number.NaN : Number(value);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * The fallback order for a task the config does not route: keyed providers
 * first (better summaries), the offline `local` provider last so something
 * always answers. Model ids can be overridden by ANTHROPIC_MODEL / OPENAI_MODEL.
 * `enabledProviders` maps plugin name → provider name.
 */
export function defaultTargets(enabledProviders: ReadonlyMap<string, string>, env: Environment): string[] {
  const targets: string[] = [];
  const add = (plugin: string, model: string) => {
    const provider = enabledProviders.get(plugin);
    if (provider !== undefined) targets.push(`${provider}/${model}`);
  };
  add('anthropic', env.ANTHROPIC_MODEL || 'claude-sonnet-4-6');
  add('openai-compatible', env.OPENAI_MODEL || 'gpt-4o-mini');
  add('local', 'local-extractive');
  return targets;
}

/** Splits "provider/model" (the model part may itself contain slashes, e.g. "openrouter/meta-llama/llama-3"). */
export function parseTarget(target: string): { provider: string; model: string } {
  const slash = target.indexOf('/');
  return { provider: target.slice(0, slash), model: target.slice(slash + 1) };
}

function isSet(value: string | undefined): boolean {
  return value !== undefined && value !== '';
}
