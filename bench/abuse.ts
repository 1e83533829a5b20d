/**
 * `npm run bench -- abuse`: what hostile tenants and strangers can make one
 * process spend. Each measurement lives in its own `_abuse-*.ts` module;
 * this file only runs them and prints their figures.
 *
 *   include-bomb-max-rss (MB), include-bomb-ms   the worst include-graph shape, one child process each
 *   unauth-body-rss-growth (MB)                   300 stalled 960 KiB bodies against the real service process
 *   unauth-body-healthz-max / -webhook-max (ms)   /healthz and a signed webhook during that attack
 */
import { measureUnauthBodyRssGrowth } from './_abuse-body.ts';
import { measureIncludeBombs } from './_abuse-include.ts';
import { report } from './_report.ts';

export async function run(): Promise<void> {
  const bombs = await measureIncludeBombs();
  for (const shape of bombs.shapes) {
    report(`include-bomb-max-rss-${shape.name}`, shape.maxRssMb, 'MB');
    report(`include-bomb-ms-${shape.name}`, shape.ms, 'ms');
  }
  report('include-bomb-max-rss', bombs.maxRssMb, 'MB');
  report('include-bomb-ms', bombs.ms, 'ms');

  const body = await measureUnauthBodyRssGrowth();
  report('unauth-body-rss-growth', body.rssGrowthMb, 'MB');
  report('unauth-body-rss-peak-growth', body.rssPeakGrowthMb, 'MB');
  report('unauth-body-healthz-max', body.healthzMaxMs, 'ms');
  report('unauth-body-webhook-max', body.webhookMaxMs, 'ms');
}
