import pg from 'pg';
import { describeDatabaseError } from '../db/database.ts';
import type { Logger } from '../log/logger.ts';
import { jitteredBackoff } from '../resilience/backoff.ts';

/**
 * Each shard of a deployment runs in one process. Two hosts given the same
 * shard id would both receive its guilds' events and answer every command
 * twice; two hosts given different SHARD_COUNTs would split guilds
 * differently and leave some unserved. Discord checks neither, so each
 * shard manager claims its shards in the Postgres they share before it
 * starts them: a session advisory lock per shard id, and a shared one on its
 * SHARD_COUNT, held on a dedicated connection while the shards run (a pooled
 * connection would be recycled, and its locks with it). Postgres releases
 * them when the holder's connection ends, a crash included.
 */

/** The first key of the two-key advisory locks: "recaps" and "recapt" in ASCII, clear of other users' keys. */
const SHARD_ID_CLASS = 0x72656373;
const SHARD_COUNT_CLASS = 0x72656374;

export interface ShardClaimOptions {
  /** The pool's settings, so the claims land in the database the shards use. */
  connection: pg.ClientConfig;
  ids: readonly number[];
  count: number;
  /** Shown to an operator whose host conflicts with this one (Postgres application_name, at most 63 bytes). */
  holderName: string;
  logger: Logger;
  /** Reconnect delays after the connection is lost. */
  reconnect?: { baseMs?: number; maxMs?: number };
}

export interface ShardClaims {
  /** Ends the connection: the shards are free for another host. */
  release(): Promise<void>;
}

/** Another process holds one of these shards, or runs another SHARD_COUNT. */
export class ShardClaimConflict extends Error {
  override readonly name = 'ShardClaimConflict';
}

/** Claims every shard in `ids` of `count`, or throws ShardClaimConflict naming the holder and claims nothing. */
export async function claimShards(options: ShardClaimOptions): Promise<ShardClaims> {
  const { logger } = options;
  const baseMs = options.reconnect?.baseMs ?? 250;
  const maxMs = options.reconnect?.maxMs ?? 30_000;
  let client: pg.Client | undefined;
  let released = false;
  let attempt = 0;
  let retryTimer: NodeJS.Timeout | undefined;

  const lost = (lostClient: pg.Client, reason: string): void => {
    if (client !== lostClient) return;
    client = undefined;
    lostClient.end().catch(() => undefined);
    if (released) return;
    logger.warn({ reason, shards: options.ids }, 'lost the database connection that holds the shard claims; claiming them again');
    scheduleReclaim();
  };

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ ...options.connection, application_name: truncateUtf8(options.holderName, 63), keepAlive: true });
    // Unhandled, a client 'error' would crash the process.
    next.on('error', (error) => lost(next, describeDatabaseError(error)));
    next.on('end', () => lost(next, 'connection closed'));
    try {
      await next.connect();
      await claimOn(next, options.ids, options.count);
    } catch (error) {
      next.removeAllListeners();
      next.on('error', () => undefined);
      await next.end().catch(() => undefined);
      throw error;
    }
    client = next;
    attempt = 0;
  };

  const scheduleReclaim = (): void => {
    if (released || retryTimer !== undefined) return;
    const delay = Math.max(50, jitteredBackoff(attempt, baseMs, maxMs));
    attempt += 1;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect()
        .then(() => logger.info({ shards: options.ids }, 'shard claims held again'))
        .catch((error: unknown) => {
          // While the claims were down another host may have taken a shard: both now serve it.
          if (error instanceof ShardClaimConflict) logger.error({ reason: error.message }, 'a shard of this host is claimed by another process too');
          else logger.warn({ reason: describeDatabaseError(error), attempt }, 'could not claim the shards again; will retry');
          scheduleReclaim();
        });
    }, delay);
    retryTimer.unref();
  };

  await connect();
  return {
    async release() {
      released = true;
      clearTimeout(retryTimer);
      const current = client;
      client = undefined;
      if (current === undefined) return;
      current.removeAllListeners();
      current.on('error', () => undefined);
      await current.end().catch(() => undefined);
    },
  };
}

async function claimOn(client: pg.Client, ids: readonly number[], count: number): Promise<void> {
  await client.query('select pg_advisory_lock_shared($1, $2)', [SHARD_COUNT_CLASS, count]);
  const otherCount = await client.query<Holder & { count: number }>(
    `${HOLDERS} and l.classid::bigint = $1 and l.objid::bigint <> $2 limit 1`,
    [SHARD_COUNT_CLASS, count],
  );
  const other = otherCount.rows[0];
  if (other !== undefined) {
    throw new ShardClaimConflict(`SHARD_COUNT is ${count} here but ${other.key} in another process of this deployment (${describeHolder(other)}); every host must use the same SHARD_COUNT`);
  }
  const claimed = await client.query<{ id: number; ok: boolean }>('select id, pg_try_advisory_lock($1, id) as ok from unnest($2::int[]) as id', [SHARD_ID_CLASS, [...ids]]);
  const taken = claimed.rows.filter((row) => !row.ok).map((row) => row.id);
  if (taken.length === 0) return;
  const holders = await client.query<Holder>(`${HOLDERS} and l.classid::bigint = $1 and l.objid::bigint = any($2::bigint[]) and l.pid <> pg_backend_pid() order by l.objid`, [
    SHARD_ID_CLASS,
    taken,
  ]);
  const first = holders.rows[0];
  const which = taken.length === 1 ? `shard ${taken[0]} already runs` : `shards ${taken.join(', ')} already run`;
  throw new ShardClaimConflict(`${which} in another process of this deployment${first === undefined ? '' : ` (${describeHolder(first)})`}; give each host its own SHARD_IDS`);
}

interface Holder {
  key: number;
  application_name: string | null;
  client_addr: string | null;
  backend_start: Date | null;
}

/** Granted two-key advisory locks in this database, with who holds them. */
const HOLDERS = `
  select l.objid::bigint::int as key, a.application_name, host(a.client_addr) as client_addr, a.backend_start
  from pg_locks l left join pg_stat_activity a on a.pid = l.pid
  where l.locktype = 'advisory' and l.objsubid = 2 and l.granted
    and l.database = (select oid from pg_database where datname = current_database())`;

function describeHolder(holder: Holder): string {
  const name = holder.application_name === null || holder.application_name === '' ? 'a process' : holder.application_name.replace(/[^\x20-\x7e]/g, '?');
  const from = holder.client_addr === null ? '' : ` connected from ${holder.client_addr}`;
  const since = holder.backend_start === null ? '' : ` since ${holder.backend_start.toISOString().slice(11, 16)} UTC`;
  return `${name}${from}${since}`;
}

function truncateUtf8(text: string, maxBytes: number): string {
  let out = text;
  while (Buffer.byteLength(out) > maxBytes) out = out.slice(0, -1);
  return out;
}

/** What other hosts see of this one when they conflict with it. */
export function shardHolderName(hostname: string, pid: number): string {
  return `recap-bot shards on ${hostname.replace(/[^\x20-\x7e]/g, '?')} pid ${pid}`;
}
