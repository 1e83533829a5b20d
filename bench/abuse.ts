/**
 * `npm run bench -- abuse`: what hostile tenants can make one process spend.
 * Each measurement lives in its own `_abuse-*.ts` module; this file only
 * runs them and prints their figures.
 */
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
}
