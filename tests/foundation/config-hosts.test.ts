/**
 * Shards across several hosts: SHARD_IDS of SHARD_COUNT picks this host's
 * part of the deployment, RECAP_ROLE what the host does. Every mistake stops
 * start-up with one line naming the variable.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/env.ts';
import { parseShardIds } from '../../src/config/shard-ids.ts';
import { processParts } from '../../src/sharding/process-parts.ts';
import { thrownBy } from '../helpers/thrown.ts';

const shared = { DATABASE_URL: 'postgres://recap@127.0.0.1:5432/recap', DISCORD_TOKEN: 'token' };
const errorFor = (env: Record<string, string>): ConfigError => thrownBy(() => loadConfig(env), (e) => e instanceof ConfigError);

describe('SHARD_IDS and SHARD_COUNT', () => {
  it.each([
    ['0-3', 8, [0, 1, 2, 3]],
    ['4-7', 8, [4, 5, 6, 7]],
    ['0,2,5', 6, [0, 2, 5]],
    [' 6-7 , 0-1 ', 8, [0, 1, 6, 7]],
    ['3', 4, [3]],
  ])('%s of %i is shards %o', (text, count, ids) => {
    expect(parseShardIds(text, count)).toEqual({ ids });
  });

  it('runs that range of the fixed total under one manager', () => {
    const config = loadConfig({ ...shared, SHARD_IDS: '2-3', SHARD_COUNT: '4', SHARD_SPAWN_DELAY_MS: '0' });
    expect(config.sharding).toEqual({ role: 'manager', shards: 4, ids: [2, 3], spawnDelayMs: 0 });
    expect(config.role).toBe('all');
  });

  it.each([
    [{ SHARD_IDS: '0-3' }, 'SHARD_IDS', 'needs SHARD_COUNT, the total number of shards across every host (e.g. SHARD_IDS=0-3 SHARD_COUNT=8)'],
    [{ SHARD_COUNT: '8' }, 'SHARD_COUNT', 'needs SHARD_IDS, the shards this host runs (e.g. SHARD_IDS=0-3); to run every shard here, set SHARDS instead'],
    [{ SHARD_IDS: '0-3', SHARD_COUNT: '8', SHARDS: '8' }, 'SHARD_IDS', 'set either SHARDS (every shard on this host) or SHARD_IDS with SHARD_COUNT (a part of them), not both'],
    [{ SHARD_IDS: '4-8', SHARD_COUNT: '8' }, 'SHARD_IDS', 'shard 8 does not exist: SHARD_COUNT is 8, so ids run from 0 to 7'],
    [{ SHARD_IDS: '8', SHARD_COUNT: '8' }, 'SHARD_IDS', 'shard 8 does not exist: SHARD_COUNT is 8, so ids run from 0 to 7'],
    [{ SHARD_IDS: '3-1', SHARD_COUNT: '8' }, 'SHARD_IDS', 'the range 3-1 runs backwards; write 1-3'],
    [{ SHARD_IDS: '0-2,2-3', SHARD_COUNT: '8' }, 'SHARD_IDS', 'shard 2 is listed twice'],
    [{ SHARD_IDS: 'first half', SHARD_COUNT: '8' }, 'SHARD_IDS', 'expected shard ids and ranges such as 0-3 or 0,2,5 (got "first half")'],
    [{ SHARD_IDS: '-1', SHARD_COUNT: '8' }, 'SHARD_IDS', 'expected shard ids and ranges such as 0-3 or 0,2,5 (got "-1")'],
    [{ SHARD_IDS: '0,,1', SHARD_COUNT: '8' }, 'SHARD_IDS', 'expected shard ids and ranges such as 0-3 or 0,2,5 (got "0,,1")'],
    [{ SHARD_IDS: '0', SHARD_COUNT: '0' }, 'SHARD_COUNT', 'expected the total number of shards across every host (1 or more) (got "0")'],
    [{ SHARD_IDS: '0', SHARD_COUNT: 'eight' }, 'SHARD_COUNT', 'expected the total number of shards across every host (1 or more) (got "eight")'],
    [{ SHARD_IDS: '0', SHARD_COUNT: '20000' }, 'SHARD_COUNT', 'expected at most 10000 shards (got "20000")'],
  ])('%o: %s %s', (env, variable, reason) => {
    const error = errorFor({ ...shared, ...env });
    expect(error.message).toBe(`configuration: ${variable}: ${reason}`);
  });

  it('needs the shared Postgres and the token, as SHARDS does', () => {
    expect(errorFor({ DISCORD_TOKEN: 'token', SHARD_IDS: '0-1', SHARD_COUNT: '4' }).message).toBe(
      'configuration: SHARD_IDS: needs DATABASE_URL (a Postgres server the shard processes share); the embedded PGlite database belongs to one process',
    );
    expect(errorFor({ DATABASE_URL: shared.DATABASE_URL, SHARD_IDS: '0-1', SHARD_COUNT: '4' }).message).toBe(
      'configuration: SHARD_IDS: needs DISCORD_TOKEN: the shards are Discord connections',
    );
  });

  it("a shard child reads discord.js's SHARDS and SHARD_COUNT, not its manager's SHARD_IDS", () => {
    const config = loadConfig({ ...shared, SHARD_IDS: '2-3', SHARD_COUNT: '4', SHARDING_MANAGER: 'true', SHARDS: '3', RECAP_ROLE: 'shards' });
    expect(config.sharding).toEqual({ role: 'shard', ids: [3], count: 4 });
    expect(processParts(config)).toEqual({ listens: false, intake: false, discord: 'here' });
  });
});

describe('RECAP_ROLE', () => {
  it('is all by default: HTTP with webhooks, and Discord', () => {
    const config = loadConfig(shared);
    expect(config.role).toBe('all');
    expect(processParts(config)).toEqual({ listens: true, intake: true, discord: 'here' });
  });

  it('web: HTTP with webhooks, never Discord, with or without a token', () => {
    for (const env of [{ ...shared, RECAP_ROLE: 'web' }, { DATABASE_URL: shared.DATABASE_URL, RECAP_ROLE: ' Web ' }, { RECAP_ROLE: 'web' }]) {
      const config = loadConfig(env);
      expect(config.role).toBe('web');
      expect(config.sharding).toEqual({ role: 'single' });
      expect(processParts(config)).toEqual({ listens: true, intake: true, discord: 'web-role' });
    }
  });

  it('shards: Discord (here or in shard children), HTTP for health and metrics only', () => {
    expect(processParts(loadConfig({ ...shared, RECAP_ROLE: 'shards' }))).toEqual({ listens: true, intake: false, discord: 'here' });
    const ranged = loadConfig({ ...shared, RECAP_ROLE: 'shards', SHARD_IDS: '0-1', SHARD_COUNT: '4' });
    expect(processParts(ranged)).toEqual({ listens: true, intake: false, discord: 'shard-children' });
    expect(processParts(loadConfig({ ...shared, SHARDS: '2' }))).toEqual({ listens: true, intake: true, discord: 'shard-children' });
  });

  it.each([
    [{ ...shared, RECAP_ROLE: 'worker' }, 'expected all (HTTP and Discord), web (HTTP, webhooks and the API; no Discord) or shards (Discord shards; HTTP for health and metrics only) (got "worker")'],
    [{ ...shared, RECAP_ROLE: 'web', SHARDS: '2' }, 'web runs no Discord shards; unset SHARDS on this host, or set RECAP_ROLE=shards (or all)'],
    [{ ...shared, RECAP_ROLE: 'web', SHARD_IDS: '0-1', SHARD_COUNT: '4' }, 'web runs no Discord shards; unset SHARD_IDS on this host, or set RECAP_ROLE=shards (or all)'],
    [{ DATABASE_URL: shared.DATABASE_URL, RECAP_ROLE: 'shards' }, 'shards needs DISCORD_TOKEN: a shards host is the Discord connection'],
    [{ DISCORD_TOKEN: 'token', RECAP_ROLE: 'shards' }, 'shards needs DATABASE_URL: a shards host serves no webhooks, so it shares a Postgres server with the web host that does'],
  ])('%o is refused: %s', (env, reason) => {
    expect(errorFor(env).message).toBe(`configuration: RECAP_ROLE: ${reason}`);
  });
});
