/**
 * One "process" of a deployment for the shared-state tests and benches: a
 * real language-model service on a real Postgres database (DATABASE_URL),
 * with rate limits, cooldowns and breakers shared through it, calling the
 * LLM emulators over HTTP. Driven by JSON lines on stdin, answering JSON
 * lines on stdout: { id, op, ... } → { id, ... }.
 *
 * Environment: DATABASE_URL, ANTHROPIC_BASE_URL, OPENAI_BASE_URL, PLUGINS_CONFIG,
 * LLM_USER_RATE_PER_MIN, LLM_GUILD_RATE_PER_MIN.
 */
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Registry } from 'prom-client';
import { openDatabase } from '../../src/db/database.ts';
import { createLlmService } from '../../src/llm/service.ts';
import type { PluginLogger } from '../../src/llm/plugin-host/types.ts';
import { RouterError, RouterRefusal } from '../../src/llm/router/errors.ts';
import { systemClock } from '../../src/resilience/clock.ts';
import { createLogger } from '../../src/log/logger.ts';
import { createVault } from './support.ts';

const quiet: PluginLogger = { debug() {}, info() {}, warn() {}, error() {} };

interface Command {
  id: number;
  op: 'generate' | 'hammer' | 'circuits' | 'status' | 'close';
  guildId?: string;
  userId?: string;
  /** hammer: calls in all, all at once from this process, starting at this wall-clock time. */
  calls?: number;
  startAt?: number;
}

const url = process.env.DATABASE_URL;
if (url === undefined) throw new Error('DATABASE_URL is required');
const database = await openDatabase({ url, dataDir: '', poolMax: 10, logger: createLogger({ level: 'silent', format: 'json' }) });
const vault = await createVault(database.db);
const env: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
const llm = await createLlmService({
  env,
  db: database.db,
  vault,
  logger: quiet,
  metrics: new Registry(),
  clock: systemClock,
  healthIntervalMs: 3_600_000,
  sharedState: 'postgres',
  sharedTtlMs: Number(process.env.SHARED_TTL_MS ?? 100),
  usageBatch: { size: 1_000, intervalMs: 10 },
});

const request = { system: 'Summarize.', turns: [{ role: 'user' as const, content: 'hello there' }], maxTokens: 50 };

async function generate(c: Command): Promise<Record<string, unknown>> {
  const ctx = {
    task: 'summarize' as const,
    ...(c.guildId !== undefined ? { guildId: c.guildId } : {}),
    ...(c.userId !== undefined ? { userId: c.userId } : {}),
    correlationId: `worker-${randomUUID()}`,
  };
  try {
    const res = await llm.router.generate(request, ctx);
    return { ok: true, provider: res.provider, attempts: res.attempts.map((a) => ({ provider: a.provider, status: a.status, reason: a.reason ?? null })) };
  } catch (err) {
    if (err instanceof RouterRefusal) return { ok: false, refused: err.kind };
    if (err instanceof RouterError) return { ok: false, error: err.kind, attempts: err.attempts.map((a) => ({ provider: a.provider, status: a.status, reason: a.reason ?? null })) };
    return { ok: false, error: String(err) };
  }
}

async function handle(c: Command): Promise<Record<string, unknown>> {
  switch (c.op) {
    case 'generate':
      return generate(c);
    case 'hammer': {
      const wait = (c.startAt ?? 0) - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const results = await Promise.all(Array.from({ length: c.calls ?? 1 }, () => generate(c)));
      return {
        admitted: results.filter((r) => r.refused === undefined).length,
        refused: results.filter((r) => r.refused === 'rate').length,
      };
    }
    case 'circuits':
      await llm.status();
      return { circuits: llm.router.circuits() };
    case 'status':
      return { status: await llm.status() };
    case 'close':
      await llm.close();
      await database.close();
      return { closed: true };
  }
}

const lines = createInterface({ input: process.stdin });
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
for await (const line of lines) {
  const command = JSON.parse(line) as Command;
  const answer = await handle(command).catch((err: unknown) => ({ error: String(err) }));
  process.stdout.write(`${JSON.stringify({ id: command.id, ...answer })}\n`);
  if (command.op === 'close') break;
}
process.exit(0);
