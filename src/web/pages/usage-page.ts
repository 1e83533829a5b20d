import type { UsageDays } from '../data/usage-days.ts';
import { html, raw, type Html } from '../html.ts';
import { layout, type PageChrome } from '../layout.ts';

export interface UsageData {
  usage: UsageDays;
  /** USD per UTC day of operator-paid calls; null: no limit. */
  dailyBudgetUsd: number | null;
}

/** JSON inside a `<script type="application/json">`: `<` escaped so no text can end the element. */
function jsonBlock(value: unknown): Html {
  return raw(JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029'));
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export function usagePage(chrome: Omit<PageChrome, 'title'>, data: UsageData): Html {
  const { usage } = data;
  const providers = Object.keys(usage.costByProvider).sort();
  const total = providers.reduce((sum, p) => sum + (usage.costByProvider[p] ?? []).reduce((a, b) => a + b, 0), 0);
  const chartData = {
    days: usage.days.map((d) => d / 1000),
    series: providers.map((p) => ({ label: p, values: usage.costByProvider[p] })),
    budget: data.dailyBudgetUsd,
    operator: usage.operatorCost,
  };
  return layout(
    { ...chrome, title: 'Usage and spend', scripts: ['/static/uplot.js', '/static/usage-chart.js'], styles: ['/static/uplot.css'] },
    html`<p>Cost per day (UTC) and provider over the last ${usage.days.length} days: $${total.toFixed(4)} in all.
Daily budget for calls paid with the operator's key: ${data.dailyBudgetUsd === null ? 'no limit' : `$${data.dailyBudgetUsd.toFixed(2)}`}.</p>
<figure>
<div id="usage-chart" class="chart" role="img" aria-label="Cost per day and provider, with the daily budget line; the same numbers are in the table below."></div>
<figcaption>Cost per day by provider${data.dailyBudgetUsd === null ? '' : ', and the daily budget'}.</figcaption>
</figure>
<script type="application/json" id="usage-data">${jsonBlock(chartData)}</script>
<section aria-labelledby="outcomes-h">
<h2 id="outcomes-h">Calls by outcome</h2>
${
  usage.outcomes.length === 0
    ? html`<p>No calls in this period.</p>`
    : html`<table><thead><tr><th scope="col">Outcome</th><th scope="col">Calls</th></tr></thead><tbody>
${usage.outcomes.map((o) => html`<tr><td>${o.outcome}</td><td>${o.calls}</td></tr>`)}
</tbody></table>`
}
</section>
<section aria-labelledby="days-h">
<h2 id="days-h">Per day</h2>
<table class="days"><thead><tr><th scope="col">Day</th>${providers.map((p) => html`<th scope="col">${p}</th>`)}<th scope="col">Operator-paid</th></tr></thead><tbody>
${usage.days
  .map((d, i) => ({ d, i }))
  .filter(({ i }) => providers.some((p) => (usage.costByProvider[p]?.[i] ?? 0) > 0))
  .map(({ d, i }) => html`<tr><th scope="row">${day(d)}</th>${providers.map((p) => html`<td>$${(usage.costByProvider[p]?.[i] ?? 0).toFixed(4)}</td>`)}<td>$${(usage.operatorCost[i] ?? 0).toFixed(4)}</td></tr>`)}
</tbody></table>
</section>`,
  );
}
