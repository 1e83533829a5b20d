/**
 * One process's share of a race for a daily budget: the real router and the
 * database budget ledger, around an in-process provider that takes a moment
 * and reports known usage, with `calls` calls for one guild at once. Used by
 * tests/llm/budget.test.ts and `npm run bench -- router`, in this process or
 * as a child process:
 *
 *   node --import tsx tests/helpers/budget-race.ts <databaseUrl> <guildId> <calls> <budgetUsd>
 *
 * which prints one JSON line, a RaceResult.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.ts';
import { openDatabase } from '../../src/db/database.ts';
import { createBudgetLedger } from '../../src/llm/budget-ledger.ts';
import type { PluginLogger } from '../../src/llm/plugin-host/types.ts';
import { estimateTokens, type ModelInfo, type Provider } from '../../src/llm/provider-spec/contract.ts';
import { maxCallCost } from '../../src/llm/router/budget.ts';
import { createRouter } from '../../src/llm/router/router.ts';
import { createSpendGuard } from '../../src/llm/router/spend-guard.ts';
import type { TaskRequest } from '../../src/llm/router/types.ts';
import { RouterRefusal } from '../../src/llm/router/errors.ts';
import { systemClock } from '../../src/resilience/clock.ts';
import { createLogger } from '../../src/log/logger.ts';

/** Priced like a large model, so twenty calls cost more than a dollar. */
export const RACE_MODEL: ModelInfo = {
  id: 'priced-large',
  contextWindow: 200_000,
  maxOutputTokens: 1_000,
  streaming: false,
  inputPricePerMTok: 15,
  outputPricePerMTok: 75,
};
/** What the provider reports for every call: the whole answer limit, $0.081 at RACE_MODEL's prices (near the reserved maximum, the worst case for overspend). */
export const RACE_USAGE = { inputTokens: 400, outputTokens: 1_000 };
const ANSWER_MS = 30;

export const raceRequest = (): TaskRequest => ({
  system: 'Summarize the conversation.',
  turns: [{ role: 'user', content: 'word '.repeat(320) }],
  maxTokens: 1_000,
});

/** The most one race call can cost, as the router reserves it. */
export function raceCallMax(): number {
  const r = raceRequest();
  const input = estimateTokens(r.system) + r.turns.reduce((n, t) => n + estimateTokens(t.content), 0);
  return maxCallCost(RACE_MODEL, input, r.maxTokens);
}

export interface RaceResult {
  answered: number;
  refused: number;
  /** Failures other than a budget refusal (should be none). */
  failed: string[];
}

const quiet: PluginLogger = createLogger({ level: 'silent', format: 'json' });

export async function runRace(db: Kysely<Database>, guildId: string, calls: number, budgetUsd: number): Promise<RaceResult> {
  const provider: Provider = {
    name: 'priced',
    models: [RACE_MODEL],
    requiresKey: true,
    async generate(request) {
      await new Promise((resolve) => setTimeout(resolve, ANSWER_MS));
      return { text: 'a summary', finishReason: 'stop', usage: { ...RACE_USAGE }, provider: 'priced', model: request.model };
    },
    stream() {
      throw new Error('not used');
    },
    health: async () => ({ ok: true }),
  };
  const ledger = createBudgetLedger({ db, clock: systemClock, logger: quiet, budgetFor: () => budgetUsd });
  const router = createRouter({
    providers: { getProvider: (name) => (name === 'priced' ? provider : undefined) },
    plan: () => [{ provider: 'priced', model: RACE_MODEL.id }],
    keys: () => ({ apiKey: 'operator-key', source: 'operator' }),
    spendGuard: createSpendGuard({ clock: systemClock }),
    budget: ledger,
    usage: { record: () => undefined },
    clock: systemClock,
    random: Math.random,
    logger: quiet,
  });
  const result: RaceResult = { answered: 0, refused: 0, failed: [] };
  await Promise.all(
    Array.from({ length: calls }, async (_, i) => {
      try {
        await router.generate(raceRequest(), { task: 'summarize', guildId, userId: `u${i}`, correlationId: `race-${guildId}-${i}` });
        result.answered++;
      } catch (err) {
        if (err instanceof RouterRefusal && err.kind === 'budget') result.refused++;
        else result.failed.push(String(err));
      }
    }),
  );
  await ledger.drain();
  return result;
}

/** Runs `runRace` in a child process against the database at `url`. */
export function raceInChild(url: string, guildId: string, calls: number, budgetUsd: number): Promise<RaceResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, url, guildId, String(calls), String(budgetUsd)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let line: string | undefined;
    createInterface({ input: child.stdout }).on('line', (l) => (line ??= l));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0 && line !== undefined) resolve(JSON.parse(line) as RaceResult);
      else reject(new Error(`budget race process exited with ${String(code)}`));
    });
  });
}

/** The guild's settled spend today. */
export async function spentToday(db: Kysely<Database>, guildId: string): Promise<number> {
  const row = await db.selectFrom('llm_budget_days').select('spent_usd').where('scope', '=', `guild:${guildId}`).executeTakeFirst();
  return Number(row?.spent_usd ?? 0);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [url = '', guildId = '', calls = '0', budget = '0'] = process.argv.slice(2);
  const handle = await openDatabase({ url, dataDir: '', poolMax: Number(calls) + 1, logger: createLogger({ level: 'silent', format: 'json' }) });
  try {
    const result = await runRace(handle.db, guildId, Number(calls), Number(budget));
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await handle.close();
  }
}
