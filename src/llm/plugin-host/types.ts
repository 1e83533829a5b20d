/**
 * What a plugin is. A plugin is a folder `plugins/<name>/` with a
 * `plugin.yaml` manifest and an entry module whose default export is a plain
 * function: it receives its context and returns what it adds (a provider, a
 * request processor or hooks). Like Octokit's plugins, nothing is registered
 * through globals; the loader composes the returned pieces onto the router.
 *
 * plugin.yaml:
 *   name: anthropic                # lowercase identifier, equals the folder name
 *   version: 1.0.0                 # semver
 *   kind: provider                 # provider | processor | hooks
 *   entry: index.ts                # relative to the plugin folder
 *   description: Claude models through @anthropic-ai/sdk
 *   host: ">=1 <2"                 # host API versions it supports (semver range; see host-api.ts)
 *   requires:                      # other plugins this one needs, by name or with a semver range
 *     - pii-redactor
 *     - { plugin: pii-redactor, version: ">=1 <2" }
 *   config:                        # settings this plugin accepts (validated at start-up)
 *     base_url: { type: string, default: "https://api.anthropic.com", description: "API base URL" }
 *     timeout_ms: { type: number, default: 60000 }
 *     models: { type: array, description: "model ids and prices" }
 *   secrets:                       # credentials it needs; looked up by name
 *     - name: api_key
 *       env: ANTHROPIC_API_KEY     # operator-wide fallback from the environment
 *       description: Anthropic API key
 *       guild_overridable: true    # a guild may store its own through the vault
 *
 * What the plugin offers the host, so the host never names a plugin (see
 * plugins/README.md): `enabled_by_default`, `enabled_by_env`,
 * `env_settings`, `default_route` (providers) and `roles` (processors).
 */
import type { GenerateRequest, GenerateResponse, PluginProvider } from '../provider-spec/contract.ts';
import type { RoutedTask } from './tasks.ts';
import type { HookAmendments, HookEvents } from './hook-points.ts';
import type { AdminNotices } from '../../notices/admin-notice.ts';

export type PluginKind = 'provider' | 'processor' | 'hooks';

type ConfigFieldType = 'string' | 'number' | 'boolean' | 'array' | 'object';

export interface ConfigFieldSpec {
  type: ConfigFieldType;
  default?: unknown;
  required?: boolean | undefined;
  description?: string | undefined;
}

export interface SecretSpec {
  name: string;
  env?: string | undefined;
  description?: string | undefined;
  guild_overridable?: boolean | undefined;
}

/** Roles the host gives meaning to. `pii-processor`: the processor a guild's `piiRedaction` setting switches. */
export const PLUGIN_ROLES = ['pii-processor'] as const;
export type PluginRole = (typeof PLUGIN_ROLES)[number];

/** Where a provider sits in the built-in fallback order, and with which model per task. */
export interface DefaultRoute {
  /** Lower comes first; ties go by plugin name. */
  rank: number;
  /** When set and not empty, this variable's value replaces the model for every task. */
  model_env?: string | undefined;
  models: { [task in RoutedTask]?: string | undefined };
}

/** Another plugin this one needs, and the versions of it that will do ("*": any). */
export interface PluginRequirement {
  plugin: string;
  version: string;
}

export interface PluginManifest {
  name: string;
  version: string;
  kind: PluginKind;
  entry: string;
  description?: string | undefined;
  /** Semver range of HOST_API_VERSION (./host-api.ts) the plugin was written for. */
  host: string;
  requires: PluginRequirement[];
  config: Record<string, ConfigFieldSpec>;
  secrets: SecretSpec[];
  /** Runs when the plugins config does not mention it (or there is no config file). */
  enabled_by_default: boolean;
  /** Runs, when the config does not mention it, if any of these variables is set and not empty. */
  enabled_by_env: string[];
  /** Without PLUGINS_CONFIG: setting name → the environment variable that fills it. */
  env_settings: Record<string, string>;
  default_route?: DefaultRoute | undefined;
  roles: PluginRole[];
}

/** Who a call is for; passed to processors, hooks and key resolution. */
export interface CallContext {
  task: 'summarize' | 'summarize-map' | 'chat';
  guildId?: string | undefined;
  userId?: string | undefined;
  correlationId: string;
}

/** Minimal structured logger seam (pino satisfies it). */
export interface PluginLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface PluginContext {
  manifest: PluginManifest;
  /** Settings after defaults and `${VAR}` substitution, validated against the manifest. */
  config: Record<string, unknown>;
  /** The operator-level secret by manifest name, from its `env` variable; undefined when unset. */
  secret(name: string): string | undefined;
  logger: PluginLogger;
  /** Where to tell a guild's admins about something (host API 1.1); absent when the host has no notices sink. */
  notices?: AdminNotices | undefined;
}

/** Rewrites a request before it leaves the process (e.g. PII redaction). Must not call the network. */
export interface RequestProcessor {
  name: string;
  /** Processors the guild can switch off are skipped when `enabledFor(guildId)` says so. */
  process(request: GenerateRequest, ctx: CallContext): GenerateRequest | Promise<GenerateRequest>;
}

export interface CallInfo {
  ctx: CallContext;
  provider: string;
  model: string;
  request: GenerateRequest;
}

export interface Hooks {
  /** Lower runs first. */
  priority?: number | undefined;
  /** Each hook call is cut off after this many ms; a slow or failing hook never fails the call. */
  timeoutMs?: number;
  beforeCall?(info: CallInfo): void | Promise<void>;
  afterCall?(info: CallInfo, outcome: { response?: GenerateResponse; error?: unknown; latencyMs: number }): void | Promise<void>;
  /** Before a summary is looked up or made (host API 1.1); may return a few notes (see hook-points.ts). */
  'summary.before'?(event: Readonly<HookEvents['summary.before']>): HookReturn<'summary.before'>;
  /** A finished summary (host API 1.1); observes only. */
  'summary.after'?(event: Readonly<HookEvents['summary.after']>): HookReturn<'summary.after'>;
  /** A member's question, before it is answered (host API 1.1); may return a few notes. */
  'chat.before'?(event: Readonly<HookEvents['chat.before']>): HookReturn<'chat.before'>;
  /** The answer to a question (host API 1.1); observes only. */
  'chat.after'?(event: Readonly<HookEvents['chat.after']>): HookReturn<'chat.after'>;
  /** The prompt chosen for a request (host API 1.1); may append a bounded text to it. */
  'prompt.resolved'?(event: Readonly<HookEvents['prompt.resolved']>): HookReturn<'prompt.resolved'>;
}

type HookReturn<P extends keyof HookAmendments> = HookAmendments[P] | void | Promise<HookAmendments[P] | void>;

export type PluginInstance =
  | { kind: 'provider'; provider: PluginProvider; close?(): Promise<void> }
  | { kind: 'processor'; processor: RequestProcessor; close?(): Promise<void> }
  | { kind: 'hooks'; hooks: Hooks; close?(): Promise<void> };

/** The default export of a plugin's entry module. */
export type PluginFactory = (ctx: PluginContext) => PluginInstance | Promise<PluginInstance>;
