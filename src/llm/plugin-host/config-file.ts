/**
 * The plugins config file (`PLUGINS_CONFIG`, see plugins.example.yaml): which
 * plugins run with which settings, and the router's targets, breaker,
 * timeouts and retries. When no file is given, `builtInConfig` (built-in-config.ts) stands in.
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
import { ROUTED_TASKS, type RoutedTask } from './tasks.ts';

const MAX_CONFIG_BYTES = 256 * 1024;
export const BUILT_IN_CONFIG_FILE = '<built-in defaults>';

export { ROUTED_TASKS, type RoutedTask };

const positiveInt = (what: string) => z.int(`must be a whole number of ${what}`).positive(`must be a positive number of ${what}`);

const target = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}\/\S{1,200}$/, 'must be "provider/model", e.g. "local/local-extractive"');
const GROUP_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
/** A task's entry: a "provider/model" target, or the name of a model group under router.groups. */
const taskEntry = z
  .string()
  .regex(
    /^[a-z][a-z0-9_-]{0,62}(\/\S{1,200})?$/,
    'must be "provider/model", e.g. "local/local-extractive", or the name of a group under router.groups',
  );
const targetList = z.array(taskEntry).min(1, 'must list at least one "provider/model" target or group');

/** One deployment of a model group: LiteLLM's model_list entry, Portkey's loadbalance target. */
const deployment = z
  .object({
    target,
    weight: z.number('must be a number').positive('must be a positive number').max(1_000_000, 'must be at most 1000000').default(1),
    /** This deployment's own operator key (a second account, another region's key), by variable name. */
    api_key_env: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]{0,127}$/, 'must be the NAME of an environment variable (upper case, digits, "_"), not the key itself')
      .optional(),
  })
  .strict();

const groups = z
  .record(
    z.string().regex(GROUP_NAME, 'must be a group name (lowercase letters, digits, "-" and "_"; no "/")'),
    z.array(deployment).min(1, 'must list at least one deployment').max(32, 'must list at most 32 deployments'),
  )
  .default({});

const strategy = z.enum(['ordered', 'least-busy', 'latency'], 'must be one of: ordered, least-busy, latency');

const fallbackOn = z
  .array(z.int('must be a whole number').min(400, 'must be an HTTP error status (400-599)').max(599, 'must be an HTTP error status (400-599)'))
  .min(1, 'must list at least one status (leave fallback_on out for the built-in classification)')
  .refine((list) => new Set(list).size === list.length, 'must not list a status twice');

const price = z.number('must be a number of US dollars per million tokens').min(0, 'must not be negative');
const promptChoice = z
  .object({
    allowed_models: z.array(target).optional(),
    max_price_per_mtok: z.object({ input: price.optional(), output: price.optional() }).strict().optional(),
  })
  .strict();

const routerSchema = z
  .object({
    /** Ordered fallbacks per task; tasks left out get the built-in order of the enabled providers. */
    tasks: z
      .object({ summarize: targetList.optional(), 'summarize-map': targetList.optional(), chat: targetList.optional() } satisfies Record<RoutedTask, unknown>)
      .strict()
      .prefault({}),
    /** Model groups: several deployments serving one model, picked per call by the task's strategy. */
    groups,
    /** Per task: how a group's deployments are ordered for each call. */
    strategy: z
      .object({ summarize: strategy.optional(), 'summarize-map': strategy.optional(), chat: strategy.optional() } satisfies Record<RoutedTask, unknown>)
      .strict()
      .prefault({}),
    /** HTTP statuses that move a call on to the next target; left out: the built-in classification. */
    fallback_on: fallbackOn.optional(),
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
    /** Per task: what a prompt's front matter may pick when the operator's key pays (router/prompt-bounds.ts). */
    prompt_choice: z
      .object({ summarize: promptChoice.optional(), 'summarize-map': promptChoice.optional(), chat: promptChoice.optional() } satisfies Record<RoutedTask, unknown>)
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((router, ctx) => {
    // A bare name in a task list must be a group defined here.
    for (const [task, entries] of Object.entries(router.tasks)) {
      entries?.forEach((entry, index) => {
        if (entry.includes('/') || Object.hasOwn(router.groups, entry)) return;
        const known = Object.keys(router.groups).sort().join(', ') || 'none';
        ctx.addIssue({
          code: 'custom',
          path: ['tasks', task, index],
          message: `must be "provider/model" or the name of a group under router.groups (groups: ${known})`,
        });
      });
    }
  })
  .prefault({});

const pluginEntry = z.preprocess(
  // `local:` with nothing under it means "enabled, default settings".
  (value) => (value === null ? {} : value),
  z
    .object({
      enabled: z.boolean().default(true),
      /** When its settings are refused: warn and run without it, instead of refusing the whole config. */
      optional: z.boolean().optional(),
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

/** Splits "provider/model" (the model part may itself contain slashes, e.g. "openrouter/meta-llama/llama-3"). */
export function parseTarget(target: string): { provider: string; model: string } {
  // Callers pass "provider/model" entries only; group names are expanded first (isGroupName).
  const slash = target.indexOf('/');
  return { provider: target.slice(0, slash), model: target.slice(slash + 1) };
}

/** A task entry without a "/" names a model group. */
export function isGroupName(entry: string): boolean {
  return !entry.includes('/');
}
