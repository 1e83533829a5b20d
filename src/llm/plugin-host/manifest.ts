/**
 * `plugin.yaml`: the schema (documented at the top of ./types.ts) and its
 * parser. Strict on purpose: a typo such as `requries:` is an error instead
 * of a silently ignored key.
 */
import semver from 'semver';
import { z } from 'zod';
import { DEFAULT_HOST_RANGE } from './host-api.ts';
import type { PluginManifest } from './types.ts';
import { PLUGIN_ROLES } from './types.ts';
import { ROUTED_TASKS } from './tasks.ts';
import { issuesToProblems } from './describe-issue.ts';
import type { ConfigProblem } from './problems.ts';
import { typeName } from './problems.ts';
import { parseYamlSource } from './yaml-source.ts';

export const PLUGIN_NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
const SETTING_NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
// semver 2.0.0, without the build-metadata corner cases nobody uses in a plugin folder.
const SEMVER_PATTERN = /^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})(?:-[0-9A-Za-z.-]{1,64})?(?:\+[0-9A-Za-z.-]{1,64})?$/;
/** Manifests are small; anything larger is a mistake or an attack. */
export const MAX_MANIFEST_BYTES = 64 * 1024;

const pluginName = z
  .string()
  .regex(PLUGIN_NAME_PATTERN, 'must be a lowercase identifier (a-z, 0-9 and "-", starting with a letter)');

/** A semver range as npm reads it: "*", ">=1 <2", "^1.2". */
const versionRange = z
  .string()
  .max(200, 'must be at most 200 characters')
  .refine((range) => semver.validRange(range) !== null, { message: 'must be a semver range such as ">=1 <2" or "^1.2"' });

/** `pii-redactor` (any version) or `{ plugin: pii-redactor, version: ">=1 <2" }`. */
const requirement = z.union([
  pluginName.transform((plugin) => ({ plugin, version: '*' })),
  z.object({ plugin: pluginName, version: versionRange.default('*') }).strict(),
]);

const configFieldTypes = ['string', 'number', 'boolean', 'array', 'object'] as const;

const configField = z
  .object({
    type: z.enum(configFieldTypes),
    default: z.unknown().optional(),
    required: z.boolean().optional(),
    description: z.string().optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (spec.default !== undefined && !matchesType(spec.default, spec.type)) {
      ctx.addIssue({
        code: 'custom',
        path: ['default'],
        message: `must be of the declared type ${spec.type}`,
      });
    }
  });

const secretSpec = z
  .object({
    name: z.string().regex(SETTING_NAME_PATTERN, 'must be a lowercase identifier (a-z, 0-9 and "_")'),
    env: z.string().regex(ENV_NAME_PATTERN, 'must be an environment variable name').optional(),
    description: z.string().optional(),
    guild_overridable: z.boolean().optional(),
  })
  .strict();

const entryPath = z
  .string()
  .min(1, 'must not be empty')
  .refine((entry) => !entry.startsWith('/') && !entry.includes('\\') && !/^[A-Za-z]:/.test(entry), {
    message: 'must be a relative POSIX path inside the plugin folder',
  })
  .refine((entry) => !entry.split('/').some((segment) => segment === '..'), {
    message: 'must not leave the plugin folder ("..")',
  })
  .refine((entry) => /\.(?:ts|mts|js|mjs)$/.test(entry), { message: 'must name a .ts, .mts, .js or .mjs module' });

const envName = z.string().regex(ENV_NAME_PATTERN, 'must be an environment variable name');
const settingName = z.string().regex(SETTING_NAME_PATTERN, 'must be a lowercase identifier (a-z, 0-9 and "_")');
const modelId = z.string().regex(/^\S{1,200}$/, 'must be a model id (1 to 200 characters, no spaces)');

const defaultRoute = z
  .object({
    rank: z.int('must be a whole number').min(0, 'must not be negative').max(1000, 'must be at most 1000').default(50),
    model_env: envName.optional(),
    models: z.object(Object.fromEntries(ROUTED_TASKS.map((task) => [task, modelId.optional()])) as Record<(typeof ROUTED_TASKS)[number], z.ZodOptional<typeof modelId>>).strict(),
  })
  .strict();

const manifestSchema = z
  .object({
    name: pluginName,
    version: z.string().regex(SEMVER_PATTERN, 'must be a semantic version such as 1.0.0'),
    kind: z.enum(['provider', 'processor', 'hooks']),
    entry: entryPath,
    description: z.string().optional(),
    host: versionRange.default(DEFAULT_HOST_RANGE),
    requires: z.array(requirement).default([]),
    config: z.record(z.string().regex(SETTING_NAME_PATTERN, 'must be a lowercase identifier (a-z, 0-9 and "_")'), configField).default({}),
    secrets: z.array(secretSpec).default([]),
    enabled_by_default: z.boolean().default(false),
    enabled_by_env: z.array(envName).default([]),
    env_settings: z.record(settingName, envName).default({}),
    default_route: defaultRoute.optional(),
    roles: z.array(z.enum(PLUGIN_ROLES)).default([]),
  })
  .strict()
  .superRefine((manifest, ctx) => {
    for (const setting of Object.keys(manifest.env_settings)) {
      const type = manifest.config[setting]?.type;
      if (type === undefined) {
        ctx.addIssue({ code: 'custom', path: ['env_settings', setting], message: `names setting "${setting}", which "config" does not declare` });
      } else if (type === 'array' || type === 'object') {
        ctx.addIssue({ code: 'custom', path: ['env_settings', setting], message: `setting "${setting}" is an ${type}; a variable can fill only a string, number or boolean` });
      }
    }
    if (manifest.default_route !== undefined && manifest.kind !== 'provider') {
      ctx.addIssue({ code: 'custom', path: ['default_route'], message: 'only a provider plugin can have a default route' });
    }
    if (manifest.roles.includes('pii-processor') && manifest.kind !== 'processor') {
      ctx.addIssue({ code: 'custom', path: ['roles'], message: 'role "pii-processor" needs kind "processor"' });
    }
    const required = new Set<string>();
    manifest.requires.forEach((requirement, index) => {
      if (requirement.plugin === manifest.name) {
        ctx.addIssue({ code: 'custom', path: ['requires', index], message: 'must not name the plugin itself' });
      } else if (required.has(requirement.plugin)) {
        ctx.addIssue({ code: 'custom', path: ['requires', index], message: `names "${requirement.plugin}" twice` });
      }
      required.add(requirement.plugin);
    });
    const secretNames = new Set<string>();
    manifest.secrets.forEach((secret, index) => {
      if (secretNames.has(secret.name)) {
        ctx.addIssue({ code: 'custom', path: ['secrets', index, 'name'], message: 'must be unique' });
      }
      secretNames.add(secret.name);
    });
  });

export function matchesType(value: unknown, type: (typeof configFieldTypes)[number]): boolean {
  switch (type) {
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeName(value) === 'object';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    default:
      return typeof value === type;
  }
}

type ManifestResult = { ok: true; manifest: PluginManifest } | { ok: false; problems: ConfigProblem[] };

/**
 * Parses and validates one manifest. `folderName` is the plugin folder's
 * name, which the manifest's `name` must equal (the folder is how operators
 * find a plugin; two names for one thing invite mistakes).
 */
export function parseManifest(text: string, file: string, folderName: string): ManifestResult {
  if (Buffer.byteLength(text, 'utf8') > MAX_MANIFEST_BYTES) {
    return { ok: false, problems: [{ file, message: `manifest is larger than ${MAX_MANIFEST_BYTES} bytes` }] };
  }
  const source = parseYamlSource(text, file);
  if (source.problems.length > 0) return { ok: false, problems: source.problems };
  const plain = source.toJS();
  if (!plain.ok) return { ok: false, problems: [plain.problem] };
  if (typeName(plain.value) !== 'object') {
    return { ok: false, problems: [{ file, line: 1, column: 1, message: `manifest must be a YAML mapping (got ${typeName(plain.value)})` }] };
  }
  const parsed = manifestSchema.safeParse(plain.value);
  if (!parsed.success) {
    return { ok: false, problems: issuesToProblems(parsed.error.issues, plain.value, source, { echoValues: true }) };
  }
  const manifest: PluginManifest = parsed.data;
  if (manifest.name !== folderName) {
    return {
      ok: false,
      problems: [
        {
          file,
          ...source.locate(['name']),
          message: `field "name" ("${manifest.name}") must equal the plugin folder's name "${folderName}"`,
        },
      ],
    };
  }
  return { ok: true, manifest };
}
