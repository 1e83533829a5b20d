import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/config/secret.ts';
import { createLogger } from '../../src/log/logger.ts';

function capture(): { stream: Writable; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter((l) => l !== '') };
}

const TOKENS = {
  github: 'ghp_R4nd0mT0k3nV4lu3xxxxxxxxxxxxxxxxxx',
  anthropic: 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345',
  discord: 'MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789',
  webhookSecret: 'whsec-plain-words-but-secret',
  password: 'correct-horse-battery',
};

describe('structured logging', () => {
  it('writes one JSON object per line with level, time and message', () => {
    const out = capture();
    createLogger({ level: 'info', format: 'json', destination: out.stream }).info({ guildId: '42' }, 'hello');
    const line = JSON.parse(out.lines()[0] ?? '{}');
    expect(line).toMatchObject({ level: 30, guildId: '42', msg: 'hello' });
    expect(typeof line.time).toBe('string');
  });

  it('redacts tokens, keys, Authorization headers and webhook secrets wherever they appear', () => {
    const out = capture();
    const logger = createLogger({ level: 'debug', format: 'json', destination: out.stream });
    logger.info(
      {
        request: { headers: { Authorization: `Bearer ${TOKENS.anthropic}`, 'x-api-key': TOKENS.anthropic, accept: 'json' } },
        guild: { settings: { githubToken: TOKENS.github, nested: [{ apiKey: TOKENS.anthropic }] } },
        webhook: { secret: TOKENS.webhookSecret, signature: `sha256=${'a'.repeat(64)}` },
        config: { databaseUrl: `postgres://bot:${TOKENS.password}@db:5432/recap`, masterKeys: new Secret('k1:AAAA') },
        note: `the bot token is ${TOKENS.discord} and the pat is ${TOKENS.github}`,
      },
      `calling with ${TOKENS.github}`,
    );
    logger.error(new Error(`GitHub said 401 for token ${TOKENS.github}`));
    logger.warn({ err: new Error(`auth header Bearer ${TOKENS.anthropic}`) }, 'failed');
    const text = out.lines().join('\n');
    for (const value of Object.values(TOKENS)) expect(text).not.toContain(value);
    expect(text).not.toContain('k1:AAAA');
    expect(text).toContain('[redacted]');
    // Innocent fields survive.
    expect(text).toContain('"accept":"json"');
    expect(text).toContain('GitHub said 401 for [redacted]');
  });

  it('does not mutate the logged object', () => {
    const out = capture();
    const payload = { token: TOKENS.github };
    createLogger({ level: 'info', format: 'json', destination: out.stream }).info(payload, 'x');
    expect(payload.token).toBe(TOKENS.github);
  });
});
