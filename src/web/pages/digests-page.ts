import type { DigestRow, DigestRunRow } from '../../digests/digest-store.ts';
import { describeSchedule } from '../../digests/schedule.ts';
import { scheduleOf } from '../../digests/digest-store.ts';
import { html, safeHref, type Html } from '../html.ts';
import { layout, type PageChrome } from '../layout.ts';

export interface DigestsData {
  digests: Array<{ digest: DigestRow; runs: DigestRunRow[] }>;
  /** Channel names by id, for the channels the viewer can read. */
  names: Map<string, string>;
  notice?: string | undefined;
  error?: string | undefined;
}

const when = (d: Date): Html => html`<time datetime="${d.toISOString()}">${d.toISOString().replace('T', ' ').slice(0, 16)} UTC</time>`;

/** Digests of the server with their last runs; pause and resume post the session's CSRF token. Created with /digest create. */
export function digestsPage(chrome: Omit<PageChrome, 'title'>, guildId: string, data: DigestsData): Html {
  const csrf = html`<input type="hidden" name="csrf" value="${chrome.user?.csrfToken ?? ''}">`;
  const channel = (id: string): string => `#${data.names.get(id) ?? id}`;
  return layout(
    { ...chrome, title: 'Digests' },
    html`${data.notice === undefined ? html`` : html`<p role="status" class="notice">${data.notice}</p>`}
${data.error === undefined ? html`` : html`<p role="alert">${data.error}</p>`}
<p>Scheduled summaries of a channel or category, posted to a channel. Create one with <code>/digest create</code> in Discord.</p>
${
  data.digests.length === 0
    ? html`<p>This server has no digests.</p>`
    : data.digests.map(
        ({ digest, runs }) => html`<section aria-labelledby="digest-${digest.id}" class="digest" data-digest-id="${digest.id}">
<h2 id="digest-${digest.id}">Digest <code>${digest.id}</code>: ${channel(digest.source_id)} → ${channel(digest.destination_id)}</h2>
<dl class="facts">
  <dt>Schedule</dt><dd>${describeSchedule(scheduleOf(digest))}</dd>
  <dt>State</dt><dd data-testid="digest-state">${digest.paused ? `paused${digest.paused_reason === null ? '' : ` (${digest.paused_reason})`}` : html`active; next run ${when(digest.next_run_at)}`}</dd>
</dl>
<form method="post" action="/guilds/${guildId}/digests" class="inline">
${csrf}<input type="hidden" name="digest" value="${digest.id}">
${digest.paused ? html`<button type="submit" name="action" value="resume">Resume digest ${digest.id}</button>` : html`<button type="submit" name="action" value="pause">Pause digest ${digest.id}</button>`}
</form>
<h3>Last runs</h3>
${
  runs.length === 0
    ? html`<p>No runs yet.</p>`
    : html`<table><thead><tr><th scope="col">Started</th><th scope="col">Outcome</th><th scope="col">Window</th><th scope="col">Messages</th><th scope="col">Posted</th></tr></thead><tbody>
${runs.map(
  (r) => html`<tr><td>${when(r.started_at)}</td><td>${r.outcome}${r.detail === null ? '' : html`: ${r.detail.slice(0, 200)}`}</td><td>${when(r.window_start)} – ${when(r.window_end)}</td><td>${r.message_count ?? ''}</td><td>${r.message_url === null ? '' : html`<a href="${safeHref(r.message_url)}">message</a>`}</td></tr>`,
)}
</tbody></table>`
}
</section>`,
      )
}`,
  );
}
