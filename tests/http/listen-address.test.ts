/**
 * Where the server listens, as the start-up log and `listen()` say it: the
 * address the socket is bound to, never a guess (HTTP_HOST=0.0.0.0 is not
 * 127.0.0.1).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/http/server.ts';
import { spawnBotProcess } from '../e2e/harness.ts';
import { childEnv, seededPgliteDataDir } from '../faults/process-env.ts';
import { silentLogger } from '../helpers/databases.ts';

describe('the listen URL names the bound address', () => {
  it.for([
    ['0.0.0.0', /^http:\/\/0\.0\.0\.0:\d+$/],
    ['127.0.0.1', /^http:\/\/127\.0\.0\.1:\d+$/],
    ['::', /^http:\/\/\[::\]:\d+$/],
  ] as const)('HTTP_HOST=%s', async ([host, expected]) => {
    const http = createHttpServer(silentLogger);
    http.route('GET', '/healthz', (_req, res) => void res.end('ok'));
    try {
      const { url, port } = await http.listen(0, host);
      expect(url).toMatch(expected);
      expect(url.endsWith(`:${port}`)).toBe(true);
      // The URL as printed is one a local client can use.
      expect(await (await fetch(`${url}/healthz`)).text()).toBe('ok');
    } finally {
      await http.close();
    }
  });
});

describe('the start-up log of `npm start`', () => {
  const cleanups: Array<() => void> = [];
  afterAll(() => {
    for (const cleanup of cleanups) cleanup();
  });

  it('says where the server actually listens', async () => {
    const data = await seededPgliteDataDir();
    cleanups.push(() => data.remove());
    const bot = spawnBotProcess(childEnv({ DATA_DIR: data.dir, HTTP_HOST: '0.0.0.0' }));
    cleanups.push(() => bot.kill());
    const url = await bot.ready(60_000);
    expect(url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await bot.stop();
  }, 90_000);
});
