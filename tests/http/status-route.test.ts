/**
 * `GET /status` on the real HTTP server, over a real language-model service
 * that has called the Anthropic emulator: the operator's token is required,
 * never echoed, and the answer shows every target's circuit, cooldown and
 * recent latency.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/env.ts';
import { createHttpServer, type HttpServer } from '../../src/http/server.ts';
import { mountStatusRoute } from '../../src/http/status-route.ts';
import { Secret } from '../../src/config/secret.ts';
import { start as startAnthropic, type AnthropicEmulator } from '../emulators/anthropic/server.ts';
import { describeEachDatabase, silentLogger } from '../helpers/databases.ts';
import { ask, createVault, ctx, newGuild, startService, type TestService } from '../llm/support.ts';

const TOKEN = 'status-token-0123456789abcdef';
const OPERATOR_KEY = 'sk-ant-operator-status-0001';

const config = `
router:
  tasks:
    summarize: [anthropic/claude-sonnet-4-6]
  retry: { max_rounds: 0, base_ms: 10, max_ms: 20 }
plugins:
  anthropic:
    config: { base_url: "\${ANTHROPIC_BASE_URL}", timeout_ms: 5000 }
  openai-compatible: { enabled: false }
  local: { enabled: false }
  pii-redactor: { enabled: false }
`;

describeEachDatabase('GET /status', (database) => {
  let anthropic: AnthropicEmulator;
  let t: TestService;
  let http: HttpServer;
  let bare: HttpServer;
  let url: string;
  let bareUrl: string;

  beforeAll(async () => {
    anthropic = await startAnthropic({ keys: { operator: OPERATOR_KEY } });
    const db = database().handle.db;
    t = await startService({
      db,
      vault: await createVault(db),
      env: { ANTHROPIC_API_KEY: OPERATOR_KEY, ANTHROPIC_BASE_URL: anthropic.baseUrl, LLM_USER_RATE_PER_MIN: '0', LLM_GUILD_RATE_PER_MIN: '0' },
      config,
    });
    http = createHttpServer(silentLogger);
    mountStatusRoute(http, { token: new Secret(TOKEN), status: () => t.service.status() });
    url = `${(await http.listen(0, '127.0.0.1')).url}/status`;
    bare = createHttpServer(silentLogger);
    mountStatusRoute(bare, { token: undefined, status: () => t.service.status() });
    bareUrl = `${(await bare.listen(0, '127.0.0.1')).url}/status`;
  });

  afterAll(async () => {
    await http?.close();
    await bare?.close();
    await t?.close();
    await anthropic?.close();
  });

  it('answers 401 without the token, or with a wrong one, and never echoes what was sent', async () => {
    const none = await fetch(url);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    const wrongToken = 'wrong-token-that-should-never-be-echoed';
    for (const authorization of [`Bearer ${wrongToken}`, `Basic ${wrongToken}`, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`]) {
      const res = await fetch(url, { headers: { authorization } });
      expect(res.status).toBe(401);
      const body = await res.text();
      expect(body).not.toContain(wrongToken);
      expect(body).not.toContain(TOKEN.slice(0, 10));
    }
  });

  it('does not exist when no token is configured', async () => {
    const res = await fetch(bareUrl, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(404);
  });

  it("shows each target's circuit, cooldown and recent latency to the operator", async () => {
    await t.service.router.generate(ask('hello'), ctx(newGuild()));
    anthropic.faults.enqueue({ type: 'rate_limited', retryAfterSeconds: 20 });
    await t.service.router.generate(ask('again'), ctx(newGuild())).catch(() => undefined);
    await t.service.usage.flush();

    const res = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as {
      process: { targets: { target: string; scope: string; circuit: string; cooldownUntil: string | null; latencyMs: { p50: number; p95: number; samples: number } | null }[] };
      shared: { store: string; latencyMs: { target: string; p50: number; calls: number }[] };
    };
    const row = body.process.targets.find((r) => r.target === 'anthropic/claude-sonnet-4-6');
    expect(row).toMatchObject({ scope: 'operator', circuit: 'closed' });
    expect(Date.parse(row?.cooldownUntil ?? '') - t.clock.now()).toBe(20_000);
    expect(row?.latencyMs?.samples).toBe(1);
    expect(row?.latencyMs?.p95).toBeGreaterThanOrEqual(row?.latencyMs?.p50 ?? Infinity);
    expect(body.shared.store).toBe('process');
    expect(body.shared.latencyMs.find((l) => l.target === 'anthropic/claude-sonnet-4-6')?.calls).toBe(1);
    expect(JSON.stringify(body)).not.toContain(OPERATOR_KEY);
  });
});

describe('RECAP_STATUS_TOKEN', () => {
  it('is read as a secret, and a short one is refused without echoing it', () => {
    expect(loadConfig({}).http.statusToken).toBeUndefined();
    expect(loadConfig({ RECAP_STATUS_TOKEN: TOKEN }).http.statusToken?.reveal()).toBe(TOKEN);
    let error: unknown;
    try {
      loadConfig({ RECAP_STATUS_TOKEN: 'short-secret' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/^configuration: RECAP_STATUS_TOKEN: expected a token of at least 16 characters/);
    expect((error as ConfigError).message).not.toContain('short-secret');
  });
});
