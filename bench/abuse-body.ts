/**
 * `npm run bench -- abuse-body`: the slow unauthenticated body attack
 * (bench/_abuse-body.ts). Temporary runner; the figures belong in `abuse`.
 */
import { measureUnauthBodyRssGrowth } from './_abuse-body.ts';
import { report } from './_report.ts';

export async function run(): Promise<void> {
  const result = await measureUnauthBodyRssGrowth();
  report('unauth-body-rss-growth', result.rssGrowthMb, 'MB');
  report('unauth-body-rss-peak-growth', result.rssPeakGrowthMb, 'MB');
  report('unauth-body-healthz-max', result.healthzMaxMs, 'ms');
  report('unauth-body-webhook-max', result.webhookMaxMs, 'ms');
  process.stderr.write(
    `rss before: ${result.rssBeforeMb} MB; attackers answered: ${JSON.stringify(result.attackAnswers)}\n` +
      `healthz ms: ${result.healthzMs.join(' ')}\nwebhook ms: ${result.webhookMs.join(' ')}\n`,
  );
}
