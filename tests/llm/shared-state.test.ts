/**
 * Rate limits, Retry-After cooldowns and circuit breakers hold across the
 * processes of one deployment: two real worker processes, each a full
 * language-model service, share a real Postgres database and call the LLM
 * emulators over HTTP.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { start as startAnthropic, type AnthropicEmulator } from '../emulators/anthropic/server.ts';
import { start as startOpenAI, type OpenAIEmulator } from '../emulators/openai/server.ts';
import { createPostgresDatabase } from '../helpers/databases.ts';
import { startWorker, type Worker } from './shared-state-workers.ts';

const OPERATOR_ANTHROPIC = 'sk-ant-operator-shared-0001';
const OPERATOR_OPENAI = 'sk-openai-operator-shared-0001';
const USER_LIMIT = 5;
const COOL_DOWN_MS = 1_500;
/** Several refreshes of the 100 ms shared view, with room for a busy machine. */
const VIEW_SETTLE_MS = 700;

const config = `
router:
  tasks:
    summarize: [anthropic/claude-sonnet-4-6, openai-compatible/gpt-4o-mini]
  retry: { max_rounds: 0, base_ms: 10, max_ms: 20 }
  breaker: { failure_threshold: 2, failure_window_ms: 60000, cool_down_ms: ${COOL_DOWN_MS} }
plugins:
  anthropic:
    config: { base_url: "\${ANTHROPIC_BASE_URL}", timeout_ms: 5000 }
  openai-compatible:
    config: { base_url: "\${OPENAI_BASE_URL}", timeout_ms: 5000 }
  local: { enabled: false }
  pii-redactor: { enabled: false }
`;

type Attempt = { provider: string; status: string; reason: string | null };
const attemptsOf = (answer: Record<string, unknown>): Attempt[] => (answer.attempts as Attempt[] | undefined) ?? [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const postgresUrl = inject('postgresUrl');

describe.skipIf(postgresUrl === '')('shared router state across two processes [postgres]', () => {
  let anthropic: AnthropicEmulator;
  let openai: OpenAIEmulator;
  let drop: (() => Promise<void>) | undefined;
  let dir: string;
  let a: Worker;
  let b: Worker;

  beforeAll(async () => {
    anthropic = await startAnthropic({ keys: { operator: OPERATOR_ANTHROPIC } });
    openai = await startOpenAI({ keys: { operator: OPERATOR_OPENAI } });
    const database = await createPostgresDatabase();
    drop = database.drop;
    dir = await mkdtemp(path.join(tmpdir(), 'shared-state-'));
    const configPath = path.join(dir, 'plugins.yaml');
    await writeFile(configPath, config);
    const env = {
      DATABASE_URL: database.url,
      ANTHROPIC_API_KEY: OPERATOR_ANTHROPIC,
      OPENAI_API_KEY: OPERATOR_OPENAI,
      ANTHROPIC_BASE_URL: anthropic.baseUrl,
      OPENAI_BASE_URL: openai.baseUrl,
      PLUGINS_CONFIG: configPath,
      LLM_USER_RATE_PER_MIN: String(USER_LIMIT),
      LLM_GUILD_RATE_PER_MIN: '0',
      SHARED_TTL_MS: '100',
    };
    [a, b] = await Promise.all([startWorker(env), startWorker(env)]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await drop?.();
    await anthropic?.close();
    await openai?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('gives a member one limit, not one per process', async () => {
    const startAt = Date.now() + 300;
    const command = { op: 'hammer', calls: 10, userId: 'member-hammer', guildId: '400000000000000001', startAt };
    const [fromA, fromB] = await Promise.all([a.send(command), b.send(command)]);
    expect(Number(fromA.admitted) + Number(fromB.admitted)).toBe(USER_LIMIT);
    expect(Number(fromA.refused) + Number(fromB.refused)).toBe(20 - USER_LIMIT);
    // Another member is not held back by the first one's limit.
    expect((await b.send({ op: 'generate', userId: 'member-other', guildId: '400000000000000001' })).ok).toBe(true);
  });

  it('opens a failing target for every process, and lets one process probe it', async () => {
    anthropic.faults.setDefault({ type: 'server_error' });
    for (const userId of ['breaker-1', 'breaker-2']) {
      const answer = await a.send({ op: 'generate', userId });
      expect(answer.provider).toBe('openai-compatible');
      expect(attemptsOf(answer)[0]).toMatchObject({ provider: 'anthropic', status: 'failed', reason: 'server' });
    }
    const calledAnthropic = anthropic.completions().length;
    await sleep(VIEW_SETTLE_MS);

    // Process B never called Anthropic, yet passes it over: A's circuit is the deployment's.
    const fromB = await b.send({ op: 'generate', userId: 'breaker-3' });
    expect(fromB.provider).toBe('openai-compatible');
    expect(attemptsOf(fromB)[0]).toMatchObject({ provider: 'anthropic', status: 'skipped', reason: 'circuit_open' });
    expect(anthropic.completions().length).toBe(calledAnthropic);
    const circuits = (await b.send({ op: 'circuits' })).circuits as { target: string; state: string }[];
    expect(circuits.find((c) => c.target === 'anthropic/claude-sonnet-4-6')?.state).toBe('open');

    // After the cool-down, many calls from both processes at once: exactly one probe reaches Anthropic.
    // The probe answers slowly, so every other call of the burst has decided before it closes the circuit.
    anthropic.faults.setDefault({ type: 'ok', delayMs: 3_000 });
    await sleep(COOL_DOWN_MS + 200);
    const startAt = Date.now() + 300;
    const burst = { op: 'hammer', calls: 2, startAt };
    await Promise.all([
      a.send({ ...burst, userId: 'probe-a' }),
      b.send({ ...burst, userId: 'probe-b' }),
    ]);
    expect(anthropic.completions().length).toBe(calledAnthropic + 1);
    anthropic.faults.setDefault({ type: 'ok' });

    // The probe succeeded: closed for the other process too.
    await sleep(VIEW_SETTLE_MS);
    const after = await b.send({ op: 'generate', userId: 'breaker-after' });
    expect(after.provider).toBe('anthropic');
  });

  it("holds every process off a target for the provider's Retry-After", async () => {
    anthropic.faults.enqueue({ type: 'rate_limited', retryAfterSeconds: 30 });
    const fromA = await a.send({ op: 'generate', userId: 'cool-1' });
    expect(fromA.provider).toBe('openai-compatible');
    expect(attemptsOf(fromA)[0]).toMatchObject({ provider: 'anthropic', status: 'failed', reason: 'rate_limited' });
    const calledAnthropic = anthropic.completions().length;
    await sleep(VIEW_SETTLE_MS);

    const fromB = await b.send({ op: 'generate', userId: 'cool-2' });
    expect(fromB.provider).toBe('openai-compatible');
    expect(attemptsOf(fromB)[0]).toMatchObject({ provider: 'anthropic', status: 'skipped', reason: 'cooldown' });
    expect(anthropic.completions().length).toBe(calledAnthropic);

    const status = (await b.send({ op: 'status' })).status as {
      shared: { targets: { target: string; cooldownUntil: string | null }[] };
    };
    const row = status.shared.targets.find((t) => t.target === 'anthropic/claude-sonnet-4-6');
    const until = Date.parse(row?.cooldownUntil ?? '');
    expect(until - Date.now()).toBeGreaterThan(25_000);
    expect(until - Date.now()).toBeLessThanOrEqual(30_000);
  });
});
