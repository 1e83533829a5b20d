import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/env.ts';
import { thrownBy } from '../helpers/thrown.ts';
import { Secret } from '../../src/config/secret.ts';

const errorFor = (env: Record<string, string>): ConfigError => thrownBy(() => loadConfig(env), (e) => e instanceof ConfigError);

describe('configuration', () => {
  it('applies defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.http.port).toBe(8080);
    expect(config.dataDir).toBe('./data');
    expect(config.database.url).toBeUndefined();
    expect(config.database.migrateOnStart).toBe(true);
    expect(config.masterKeys).toBeUndefined();
    expect(config.log.level).toBe('info');
  });

  it('treats empty values as unset, as a .env file with KEY= does', () => {
    const config = loadConfig({ HTTP_PORT: '', DATA_DIR: ' ', DATABASE_URL: '', RECAP_MASTER_KEYS: '', LOG_LEVEL: '' });
    expect(config.http.port).toBe(8080);
    expect(config.dataDir).toBe('./data');
    expect(config.database.url).toBeUndefined();
    expect(config.masterKeys).toBeUndefined();
  });

  it.each([
    [{ HTTP_PORT: 'eighty' }, 'HTTP_PORT', /port number from 0 to 65535 \(got "eighty"\)/],
    [{ HTTP_PORT: '70000' }, 'HTTP_PORT', /port number/],
    [{ HTTP_PORT: '80.5' }, 'HTTP_PORT', /whole port number/],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /one of trace, debug, info/],
    [{ DATABASE_URL: 'mysql://x@y/z' }, 'DATABASE_URL', /postgres:\/\//],
    [{ DATABASE_POOL_MAX: '0' }, 'DATABASE_POOL_MAX', /positive whole number/],
    [{ DATABASE_MIGRATE_ON_START: 'perhaps' }, 'DATABASE_MIGRATE_ON_START', /true or false/],
  ])('rejects %o naming the variable and what is expected', (env, variable, reason) => {
    const error = errorFor(env);
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(new RegExp(`^configuration: ${variable}: `));
    expect(error.message).toMatch(reason);
    expect(error.message.split('\n')).toHaveLength(1);
  });

  it('never echoes a malformed secret-bearing value', () => {
    const error = errorFor({ DATABASE_URL: 'mysql://user:hunter2@db/x' });
    expect(error.message).not.toContain('hunter2');
  });

  it('keeps secrets out of strings, JSON and inspect', () => {
    const config = loadConfig({ RECAP_MASTER_KEYS: 'k1:c2VjcmV0', DATABASE_URL: 'postgres://u:pw@h/db' });
    expect(config.masterKeys).toBeInstanceOf(Secret);
    const shown = [String(config.masterKeys), JSON.stringify(config), inspect(config, { depth: 5 }), `${config.database.url}`];
    for (const text of shown) {
      expect(text).not.toContain('c2VjcmV0');
      expect(text).not.toContain('pw@');
    }
    expect(JSON.stringify(config)).toContain('[redacted]');
    expect(config.masterKeys?.reveal()).toBe('k1:c2VjcmV0');
  });
});
