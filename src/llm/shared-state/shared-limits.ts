/**
 * Per-member and per-guild request rates, counted where every process sees
 * them. rate-limiter-flexible does the counting: its Postgres store is one
 * upsert per check against `llm_rate_limits` (created by migration 0013), and
 * its memory store serves a single process (embedded PGlite, which one process
 * owns, and tests). Limits are fixed one-minute windows of N requests.
 */
import { createHash } from 'node:crypto';
import { CompiledQuery, type Kysely } from 'kysely';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { CallContext, PluginLogger } from '../plugin-host/types.ts';
import type { Clock } from '../../resilience/clock.ts';
import { RouterRefusal, describeWhen } from '../router/errors.ts';
import type { SharedLimits } from '../router/types.ts';
import type { Database } from '../../db/schema.ts';
import { messageOf } from '../../log/error-message.ts';

export interface LimitSettings {
  /** Requests per minute per member; 0 or absent: no limit. */
  userPerMin?: number | undefined;
  /** Requests per minute per guild; 0 or absent: no limit. */
  guildPerMin?: number | undefined;
}

export const RATE_TABLE = 'llm_rate_limits';
const WINDOW_SECONDS = 60;

type LimiterFactory = (prefix: string, points: number) => RateLimiterAbstract;

/** Keys are ids from Discord; anything longer than a sane id is hashed so the key column stays bounded. */
function keyOf(id: string): string {
  return id.length <= 64 ? id : createHash('sha256').update(id).digest('hex');
}

function build(settings: LimitSettings, make: LimiterFactory, clock: Clock, logger: PluginLogger): SharedLimits {
  const perMin = (n: number | undefined): number | undefined => (n !== undefined && n > 0 ? n : undefined);
  const userPoints = perMin(settings.userPerMin);
  const guildPoints = perMin(settings.guildPerMin);
  const users = userPoints !== undefined ? make('u', userPoints) : undefined;
  const guilds = guildPoints !== undefined ? make('g', guildPoints) : undefined;

  /** ms until the key's window lets it in again, or undefined when admitted. */
  async function take(limiter: RateLimiterAbstract, key: string, scope: 'user' | 'guild'): Promise<number | undefined> {
    try {
      await limiter.consume(key);
      return undefined;
    } catch (res) {
      if (res instanceof RateLimiterRes) return Math.max(0, res.msBeforeNext);
      // The store failed and so did the insurance limiter: let the call through rather than refuse everyone.
      logger.warn({ scope, err: messageOf(res) }, 'rate limit could not be checked; admitting the call');
      return undefined;
    }
  }

  function refuse(scope: 'user' | 'guild', waitMs: number): RouterRefusal {
    const now = clock.now();
    const at = now + waitMs;
    const who = scope === 'user' ? 'you' : 'this server';
    return new RouterRefusal('rate', scope, at, `Too many requests from ${who}; try again at ${describeWhen(at, now)}.`);
  }

  return {
    async admit(ctx: CallContext) {
      const userKey = users !== undefined && ctx.userId !== undefined ? keyOf(ctx.userId) : undefined;
      const guildKey = guilds !== undefined && ctx.guildId !== undefined ? keyOf(ctx.guildId) : undefined;
      // Both counters at once: one round trip of latency, not two.
      const [userWait, guildWait] = await Promise.all([
        userKey !== undefined && users !== undefined ? take(users, userKey, 'user') : undefined,
        guildKey !== undefined && guilds !== undefined ? take(guilds, guildKey, 'guild') : undefined,
      ]);
      if (userWait === undefined && guildWait === undefined) return;
      // A refused call must not use up the other scope's allowance: hand back the point it took.
      if (userWait !== undefined && guildWait === undefined && guildKey !== undefined) await guilds?.reward(guildKey, 1).catch(() => undefined);
      if (guildWait !== undefined && userWait === undefined && userKey !== undefined) await users?.reward(userKey, 1).catch(() => undefined);
      throw userWait !== undefined ? refuse('user', userWait) : refuse('guild', guildWait ?? 0);
    },
  };
}

/** One process: counters in memory. */
export function createMemoryLimits(settings: LimitSettings, clock: Clock, logger: PluginLogger): SharedLimits {
  return build(settings, (prefix, points) => new RateLimiterMemory({ keyPrefix: prefix, points, duration: WINDOW_SECONDS }), clock, logger);
}

/**
 * Every process: counters in Postgres, through the application's Kysely
 * instance (rate-limiter-flexible takes any client with a pg-style
 * `query({ text, values })`). A key already over its limit is refused from
 * memory until its window ends, so a flood costs no queries; while the
 * database is unreachable a per-process memory limiter stands in.
 */
export function createPostgresLimits(db: Kysely<Database>, settings: LimitSettings, clock: Clock, logger: PluginLogger): SharedLimits {
  const client = {
    async query(q: { text: string; values?: unknown[] }) {
      const result = await db.executeQuery(CompiledQuery.raw(q.text, q.values ?? []));
      return { rows: result.rows, rowCount: result.rows.length };
    },
  };
  return build(
    settings,
    (prefix, points) =>
      new RateLimiterPostgres({
        storeClient: client,
        storeType: 'pool',
        tableName: RATE_TABLE,
        tableCreated: true,
        keyPrefix: prefix,
        points,
        duration: WINDOW_SECONDS,
        inMemoryBlockOnConsumed: points + 1,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix: `${prefix}-insurance`, points, duration: WINDOW_SECONDS }),
      }),
    clock,
    logger,
  );
}
