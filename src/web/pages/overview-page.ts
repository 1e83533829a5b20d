import type { PromptStatus } from '../../prompts/engine.ts';
import type { Problem } from '../../prompts/types.ts';
import { html, safeHref, type Html } from '../html.ts';
import { layout, type PageChrome } from '../layout.ts';

export interface OverviewData {
  status: PromptStatus;
  summaries: { recent: number; last: Date | null };
  spendUsd: number;
  /** What `recent` and `spendUsd` cover. */
  days: number;
  /** Set after a refresh: what it found. */
  notice?: string | undefined;
}

const LEVEL: Record<string, string> = {
  custom: 'custom: this server\'s repository, fresh',
  cached: 'cached: the last good snapshot of this server\'s repository',
  bundled: 'bundled: the prompts shipped with the bot',
  fallback: 'fallback: the prompt compiled into the bot',
};

/** The repository's web address for a commit's file and line (github.com or an Enterprise host). */
export function problemLink(status: PromptStatus, problem: Pick<Problem, 'file' | 'line'>, commit: string): string | undefined {
  const config = status.config;
  if (config === null || problem.file === '.' || problem.file === '') return undefined;
  const web = /^https?:\/\//.test(config.repoUrl) ? config.repoUrl.replace(/\.git$/, '').replace(/\/+$/, '') : `https://github.com/${config.owner}/${config.repo}`;
  const path = problem.file.split('/').map(encodeURIComponent).join('/');
  return `${web}/blob/${commit}/${path}${problem.line === undefined ? '' : `#L${problem.line}`}`;
}

function when(date: Date | number | null): Html {
  if (date === null) return html`never`;
  const d = new Date(date);
  return html`<time datetime="${d.toISOString()}">${d.toISOString().replace('T', ' ').slice(0, 16)} UTC</time>`;
}

export function overviewPage(chrome: Omit<PageChrome, 'title'>, guildId: string, data: OverviewData): Html {
  const { status } = data;
  const config = status.config;
  const head = status.invalidHead;
  const problems = head === null ? [] : head.problems;
  const csrf = chrome.user?.csrfToken ?? '';
  return layout(
    { ...chrome, title: 'Overview' },
    html`${data.notice === undefined ? html`` : html`<p role="status" class="notice">${data.notice}</p>`}
<section aria-labelledby="repo-h">
<h2 id="repo-h">Prompt repository</h2>
<dl class="facts">
  <dt>Repository</dt><dd>${config === null ? 'none configured (set one with /prompt-config set)' : html`<a href="${safeHref(config.repoUrl.startsWith('http') ? config.repoUrl : `https://github.com/${config.owner}/${config.repo}`)}">${config.owner}/${config.repo}</a> @ ${config.branch}`}</dd>
  <dt>Live commit</dt><dd><code data-testid="live-commit">${status.commit ?? 'none read yet'}</code></dd>
  <dt>Serving level</dt><dd data-testid="level">${LEVEL[status.level] ?? status.level}</dd>
  <dt>Last push received</dt><dd>${when(config?.lastPushAt ?? null)}</dd>
  <dt>Last sync</dt><dd>${config?.lastSyncAt == null ? 'never' : html`${config.lastSyncStatus ?? 'unknown'} at ${when(config.lastSyncAt)}${config.lastSyncCommit === null ? '' : html` (commit <code>${config.lastSyncCommit.slice(0, 12)}</code>)`}`}</dd>
  ${status.denied === null ? html`` : html`<dt>Access</dt><dd>GitHub has answered ${status.denied.status} since ${when(status.denied.since)}: ${status.denied.message}</dd>`}
</dl>
<div class="actions">
  <form method="post" action="/guilds/${guildId}/refresh" class="inline">
    <input type="hidden" name="csrf" value="${csrf}">
    <button type="submit">Refresh now</button>
  </form>
  <a class="button" href="/guilds/${guildId}/test">Test a request</a>
</div>
</section>
<section aria-labelledby="problems-h">
<h2 id="problems-h">Problems${head === null ? '' : html` in commit <code>${head.commit.slice(0, 12)}</code>`}</h2>
${
  problems.length === 0 && (config?.lastSyncErrors.length ?? 0) === 0
    ? html`<p>None.</p>`
    : html`<ul class="problems">
${problems.map((p) => {
  const where = `${p.file}${p.line === undefined ? '' : `:${p.line}`}`;
  const href = head === null ? undefined : problemLink(status, p, head.commit);
  return html`<li class="${p.severity}"><span class="sev">${p.severity}</span> ${href === undefined ? html`<code>${where}</code>` : html`<a href="${safeHref(href)}"><code>${where}</code></a>`}: ${p.message}</li>`;
})}
${(config?.lastSyncErrors ?? []).map((line) => html`<li class="error"><span class="sev">sync</span> ${line}</li>`)}
</ul>`
}
</section>
<section aria-labelledby="glance-h">
<h2 id="glance-h">At a glance</h2>
<dl class="facts">
  <dt>Summaries</dt><dd>${data.summaries.recent.toLocaleString('en-US')} in the last ${data.days} days; the newest ${when(data.summaries.last)} (<a href="/guilds/${guildId}/summaries">history</a>)</dd>
  <dt>Spend, last ${data.days} days</dt><dd>$${data.spendUsd.toFixed(4)} (<a href="/guilds/${guildId}/usage">per day</a>)</dd>
</dl>
</section>`,
  );
}
