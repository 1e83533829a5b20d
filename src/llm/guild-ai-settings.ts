/**
 * A guild's AI settings: a typed, validated view of the `ai` entry in
 * `guild_settings.settings` (other features keep their own entries in the
 * same jsonb). Reads are cached per guild; an update invalidates its guild and
 * writes an audit entry in the same transaction.
 *
 * Several processes may share the database, so cached entries also expire
 * after `ttlMs`: another process's change is seen within that time.
 */
import { sql, type Kysely } from 'kysely';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { recordAudit, type AuditActor } from '../audit/audit-log.ts';
import type { Database } from '../db/schema.ts';
import type { PluginLogger } from './plugin-host/types.ts';
import type { Clock } from '../resilience/clock.ts';
import { messageOf } from '../log/error-message.ts';

export interface GuildAiSettings {
  /** Providers this guild's calls may use, in order; absent means the operator's plan as configured. */
  providerOrder?: string[];
  /** USD per UTC day of calls paid with the operator's key; null or absent means no limit. */
  dailyBudgetUsd?: number | null;
  /** Whether calls may use the operator's key when the guild has none of its own. */
  allowOperatorKey: boolean;
  /** Whether the PII processors (plugins with role `pii-processor`) run on this guild's requests. */
  piiRedaction: boolean;
}

/** What an admin may change; `null` clears `providerOrder` (back to the operator's plan) or the budget. */
export type GuildAiSettingsPatch = {
  providerOrder?: string[] | null;
  dailyBudgetUsd?: number | null;
  allowOperatorKey?: boolean;
  piiRedaction?: boolean;
};

const DEFAULT_AI_SETTINGS: Readonly<GuildAiSettings> = Object.freeze({ allowOperatorKey: true, piiRedaction: true });

/** The jsonb key under `guild_settings.settings`. */
const SETTINGS_KEY = 'ai';

export class GuildAiSettingsError extends Error {
  override readonly name = 'GuildAiSettingsError';
}

const providerName = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be a provider name (lowercase letters, digits and "-")');
const providerOrder = z
  .array(providerName)
  .min(1, 'must name at least one provider (clear it to use the default order)')
  .max(16, 'must name at most 16 providers')
  .refine((names) => new Set(names).size === names.length, 'must not name a provider twice');
const budget = z
  .number('must be a number of US dollars')
  .finite('must be a finite number of US dollars')
  .nonnegative('must not be negative (0 switches language-model calls off)')
  .max(1_000_000, 'must be at most 1,000,000');

const patchSchema = z
  .object({
    providerOrder: providerOrder.nullable().optional(),
    dailyBudgetUsd: budget.nullable().optional(),
    allowOperatorKey: z.boolean('must be true or false').optional(),
    piiRedaction: z.boolean('must be true or false').optional(),
  })
  .strict();

/**
 * When a stored field does not validate (a hand edit, an older format), the
 * value used is the cautious one: no spending allowed rather than unlimited,
 * the operator's key withheld, redaction on.
 */
const CAUTIOUS = { dailyBudgetUsd: 0, allowOperatorKey: false, piiRedaction: true } as const;

const storedFields = {
  providerOrder: providerOrder.nullable().optional(),
  dailyBudgetUsd: budget.nullable().optional(),
  allowOperatorKey: z.boolean().optional(),
  piiRedaction: z.boolean().optional(),
} as const;

export interface GuildAiSettingsStore {
  /** From the cache when fresh, else from the database. */
  get(guildId: string): Promise<GuildAiSettings>;
  /** Synchronous: the cached settings (possibly a little stale), or undefined when the guild is not cached. */
  peek(guildId: string): GuildAiSettings | undefined;
  /** Validates the patch (unknown fields and bad values are refused with the field's name), saves it and audits it. */
  update(guildId: string, patch: unknown, actor: AuditActor): Promise<GuildAiSettings>;
  /** Drops a guild's cached settings (another component changed them). */
  invalidate(guildId: string): void;
}

interface GuildAiSettingsOptions {
  db: Kysely<Database>;
  clock: Clock;
  logger: PluginLogger;
  /** Providers a guild may name in `providerOrder`; unchecked when omitted. */
  knownProviders?: () => readonly string[];
  /** Default 60 s. */
  ttlMs?: number;
  /** Guilds kept in memory; default 10,000. */
  maxGuilds?: number;
}

export function createGuildAiSettings(options: GuildAiSettingsOptions): GuildAiSettingsStore {
  const { db, clock, logger } = options;

  const cache = new LRUCache<string, GuildAiSettings>({
    max: options.maxGuilds ?? 10_000,
    ttl: options.ttlMs ?? 60_000,
    // Time comes from the injected clock, read on every check.
    perf: clock,
    ttlResolution: 0,
    fetchMethod: async (guildId) => parseStored(guildId, await readStored(db, guildId), logger),
  });

  async function get(guildId: string): Promise<GuildAiSettings> {
    try {
      return (await cache.fetch(guildId)) ?? { ...DEFAULT_AI_SETTINGS };
    } catch (err) {
      // An update landing during the read replaces the entry (and aborts the read): use what it saved.
      const replaced = cache.get(guildId);
      if (replaced !== undefined) return replaced;
      const reason = messageOf(err);
      throw new GuildAiSettingsError(`this server's AI settings could not be read from the database (${reason})`, { cause: err });
    }
  }

  async function update(guildId: string, patch: unknown, actor: AuditActor): Promise<GuildAiSettings> {
    const parsed = patchSchema.safeParse(patch);
    if (!parsed.success) throw new GuildAiSettingsError(`invalid AI settings: ${describeIssues(parsed.error.issues)}`);
    const changes = parsed.data;
    const known = options.knownProviders?.();
    if (known !== undefined && changes.providerOrder) {
      const unknown = changes.providerOrder.filter((name) => !known.includes(name));
      if (unknown.length > 0) {
        throw new GuildAiSettingsError(
          `invalid AI settings: providerOrder names ${unknown.map((n) => `"${n}"`).join(', ')}, which ${unknown.length === 1 ? 'is' : 'are'} not enabled (enabled providers: ${known.join(', ') || 'none'})`,
        );
      }
    }

    const saved = await db.transaction().execute(async (trx) => {
      // Locks the guild's row (when there is one) so two admins' changes do not overwrite each other.
      const row = await trx
        .selectFrom('guild_settings')
        .select('settings')
        .where('guild_id', '=', guildId)
        .forUpdate()
        .executeTakeFirst();
      const before = storedObject(row?.settings);
      const after: Record<string, unknown> = { ...before };
      for (const [field, value] of Object.entries(changes)) {
        if (value === undefined) continue;
        // A null budget is stored ("no limit" was chosen); a null order just removes the override.
        if (value === null && field === 'providerOrder') delete after[field];
        else after[field] = value;
      }
      const aiJson = JSON.stringify(after);
      const now = new Date(clock.now());
      await trx
        .insertInto('guild_settings')
        .values({ guild_id: guildId, settings: JSON.stringify({ [SETTINGS_KEY]: after }), updated_at: now, updated_by: actor.actorId })
        .onConflict((oc) =>
          oc.column('guild_id').doUpdateSet({
            settings: sql<string>`jsonb_set(guild_settings.settings, ${sql.lit(`{${SETTINGS_KEY}}`)}, ${aiJson}::jsonb, true)`,
            updated_at: now,
            updated_by: actor.actorId,
          }),
        )
        .execute();
      const changed: Record<string, { from: unknown; to: unknown }> = {};
      for (const field of Object.keys(changes)) {
        const from = before[field] ?? null;
        const to = after[field] ?? null;
        if (JSON.stringify(from) !== JSON.stringify(to)) changed[field] = { from, to };
      }
      await recordAudit(trx, {
        guildId,
        actorId: actor.actorId,
        action: 'ai-config.settings',
        details: { changed },
        correlationId: actor.correlationId,
      });
      return after;
    });
    const settings = parseStored(guildId, saved, logger);
    // Replaced rather than dropped: synchronous readers (the plan) see the change at once.
    cache.set(guildId, settings);
    return settings;
  }

  return {
    get,
    peek: (guildId) => cache.get(guildId, { allowStale: true }),
    update,
    invalidate: (guildId) => void cache.delete(guildId),
  };
}

async function readStored(db: Kysely<Database>, guildId: string): Promise<Record<string, unknown>> {
  const row = await db.selectFrom('guild_settings').select('settings').where('guild_id', '=', guildId).executeTakeFirst();
  return storedObject(row?.settings);
}

/** The `ai` entry of a settings document, or an empty object. */
function storedObject(settings: unknown): Record<string, unknown> {
  const doc = typeof settings === 'string' ? safeJson(settings) : settings;
  const ai = isRecord(doc) ? doc[SETTINGS_KEY] : undefined;
  return isRecord(ai) ? { ...ai } : {};
}

/** Field by field, so one bad field does not throw away the rest. */
function parseStored(guildId: string, stored: Record<string, unknown>, logger: PluginLogger): GuildAiSettings {
  const bad: string[] = [];
  function read<T>(field: keyof GuildAiSettings, schema: z.ZodType<T>, cautious: T): T {
    const result = schema.safeParse(stored[field]);
    if (result.success) return result.data;
    bad.push(field);
    return cautious;
  }
  const order = read('providerOrder', storedFields.providerOrder, undefined);
  const budget = read('dailyBudgetUsd', storedFields.dailyBudgetUsd, CAUTIOUS.dailyBudgetUsd);
  const settings: GuildAiSettings = {
    allowOperatorKey: read('allowOperatorKey', storedFields.allowOperatorKey, CAUTIOUS.allowOperatorKey) ?? DEFAULT_AI_SETTINGS.allowOperatorKey,
    piiRedaction: read('piiRedaction', storedFields.piiRedaction, CAUTIOUS.piiRedaction) ?? DEFAULT_AI_SETTINGS.piiRedaction,
    // A stored null order means the operator's plan, the same as none.
    ...(order === undefined || order === null ? {} : { providerOrder: order }),
    ...(budget === undefined ? {} : { dailyBudgetUsd: budget }),
  };
  if (bad.length > 0) {
    logger.warn({ guildId, fields: bad }, 'stored AI settings are invalid; the cautious value is used for those fields until an admin sets them again');
  }
  return settings;
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      if (issue.code === 'unrecognized_keys') return `unknown setting${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      return path ? `${path} ${issue.message}` : issue.message;
    })
    .join('; ');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
