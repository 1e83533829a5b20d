/**
 * Shard claims on real Postgres: a host holds its shard ids and its
 * SHARD_COUNT while its shards run, and a host configured to run one of
 * them too, or with another count, is refused with the holder named.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { claimShards, ShardClaimConflict, shardHolderName, type ShardClaimOptions, type ShardClaims } from '../../src/sharding/shard-claims.ts';
import { createPostgresDatabase, silentLogger } from '../helpers/databases.ts';
import { capturingLogger } from '../webhooks/helpers.ts';

const postgresUrl = inject('postgresUrl');

describe.skipIf(postgresUrl === '')(`shard claims${postgresUrl === '' ? ` [skipped: no Postgres, ${inject('postgresSkipReason')}]` : ''}`, () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  const held: ShardClaims[] = [];

  beforeAll(async () => {
    database = await createPostgresDatabase();
  });
  afterEach(async () => {
    await Promise.all(held.splice(0).map((c) => c.release()));
  });
  afterAll(async () => {
    await database?.drop();
  });

  const claim = async (ids: number[], count: number, name: string, extra: Partial<ShardClaimOptions> = {}): Promise<ShardClaims> => {
    const claims = await claimShards({ connection: database.handle.pool!.options, ids, count, holderName: name, logger: silentLogger, ...extra });
    held.push(claims);
    return claims;
  };
  const refusal = async (ids: number[], count: number): Promise<string> => {
    const error: unknown = await claim(ids, count, 'recap-bot shards on late-host pid 2').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ShardClaimConflict);
    return (error as Error).message;
  };

  it('hosts with disjoint ranges of one count all hold their shards', async () => {
    await claim([0, 1], 4, 'host-a');
    await claim([2, 3], 4, 'host-b');
  });

  it('a second host given a shard already held is refused, naming the holder, and claims nothing', async () => {
    await claim([0, 1], 4, shardHolderName('host-a', 4242));
    const message = await refusal([1, 2], 4);
    expect(message).toMatch(
      /^shard 1 already runs in another process of this deployment \(recap-bot shards on host-a pid 4242 connected from [\d.:a-f]+ since \d\d:\d\d UTC\); give each host its own SHARD_IDS$/,
    );
    expect(await refusal([0, 1, 3], 4)).toMatch(/^shards 0, 1 already run in another process/);
    // The refused host kept none of its shards: 2 and 3 are free.
    await claim([2, 3], 4, 'host-c');
  });

  it('a host with another SHARD_COUNT is refused', async () => {
    await claim([0, 1], 4, 'host-a');
    expect(await refusal([4, 5], 8)).toMatch(/^SHARD_COUNT is 8 here but 4 in another process of this deployment \(host-a connected from .*\); every host must use the same SHARD_COUNT$/);
  });

  it('released shards can be claimed by another host', async () => {
    const first = await claim([0], 1, 'host-a');
    await refusal([0], 1);
    await first.release();
    await claim([0], 1, 'host-b');
  });

  it('holds the shards again after its connection is terminated', async () => {
    const { logger, lines } = capturingLogger('info');
    const name = 'recap-bot shards on reconnecting-host';
    await claim([0, 1], 2, name, { logger, reconnect: { baseMs: 20, maxMs: 100 } });
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      const terminated = await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and datname = current_database()', [name]);
      expect(terminated.rowCount).toBe(1);
      const deadline = Date.now() + 10_000;
      while (!lines().some((l) => l['msg'] === 'shard claims held again') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(lines().map((l) => l['msg'])).toEqual([
        'lost the database connection that holds the shard claims; claiming them again',
        'shard claims held again',
      ]);
      expect(await refusal([1], 2)).toMatch(/^shard 1 already runs in another process of this deployment \(recap-bot shards on reconnecting-host /);
    } finally {
      await admin.end();
    }
  });
});
