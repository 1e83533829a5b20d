/**
 * `npm run bench -- faults [rounds]`: the database outage drill (see
 * tests/faults/db-kill-scenario.ts) on a private Postgres cluster: the real
 * bot under a webhook flood and /summarize requests while every backend of
 * its database is terminated `rounds` times (default 2), then the server is
 * restarted once.
 *
 *   db-kill-survived: N of N        fault rounds the process outlived with /readyz back
 *   db-kill-lost-deliveries: N      deliveries answered 2xx that never reached `done` (target 0)
 *   readyz-recovery-ms: N ms        slowest time from a fault to /readyz answering 200
 */
import { runDbKillScenario, type FaultKind } from '../tests/faults/db-kill-scenario.ts';
import { report } from './_report.ts';

export async function run(args: string[]): Promise<void> {
  const kills = Number(args[0] ?? 2);
  const faults: FaultKind[] = [...Array.from({ length: Number.isInteger(kills) && kills > 0 ? kills : 2 }, () => 'terminate-backends' as const), 'restart-server'];
  const result = await runDbKillScenario({ faults, log: (line) => process.stderr.write(`${line}\n`) });
  if ('skip' in result) {
    process.stderr.write(`faults benchmark skipped: ${result.skip}\n`);
    return;
  }
  process.stdout.write(`db-kill-survived: ${result.survived} of ${result.rounds.length}\n`);
  process.stdout.write(`db-kill-lost-deliveries: ${result.deliveries.lost.length}\n`);
  const recoveries = result.rounds.map((r) => r.readyzRecoveryMs ?? Number.POSITIVE_INFINITY);
  report('readyz-recovery-ms', Math.max(...recoveries), 'ms');
  report('db-kill-deliveries-answered-2xx', result.deliveries.answered2xx, 'deliveries');
  report('db-kill-summarize-answered', result.summarize.sent - result.summarize.unanswered, `of ${result.summarize.sent} requests`);
  report('db-kill-summarize-try-again', result.summarize.tryAgain, 'requests');
  report('db-kill-process-errors', result.processErrors.length, 'log lines');
}
