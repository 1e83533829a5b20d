import type { DigestRow, DigestRunRow } from '../../digests/digest-store.ts';
import { CADENCES, describeSchedule } from '../../digests/schedule.ts';
import { LANGUAGES } from '../../discord/shared/languages.ts';
import type { ViewChannel } from '../bot-view.ts';
import { scheduleOf } from '../../digests/digest-store.ts';
import { html, safeHref, type Html } from '../html.ts';
import { layout, type PageChrome } from '../layout.ts';

export interface DigestsData {
  digests: Array<{ digest: DigestRow; runs: DigestRunRow[] }>;
  /** Channel names by id, for the channels the viewer can read. */
  names: Map<string, string>;
  notice?: string | undefined;
  error?: string | undefined;
  /** What the create form offers: channels the viewer can read, and the guild's categories. */
  choices: { channels: ViewChannel[]; categories: ViewChannel[]; timeZones: readonly string[] };
  /** A refused create: the form's values again, and why it was refused (shown beside the form). */
  draft?: { values: URLSearchParams; error: string } | undefined;
}

/** The create form: every control labelled, plain HTML (no script), the session's CSRF token. */
function createForm(guildId: string, csrf: Html, data: DigestsData): Html {
  const values = data.draft?.values ?? new URLSearchParams();
  const value = (name: string, fallback = ''): string => values.get(name) ?? fallback;
  const option = (id: string, label: string, selected: string): Html => html`<option value="${id}"${selected === id ? html` selected` : html``}>${label}</option>`;
  const { channels, categories, timeZones } = data.choices;
  return html`<section aria-labelledby="create-h">
<h2 id="create-h">New digest</h2>
${data.draft === undefined ? html`` : html`<p role="alert" id="create-error" data-testid="create-error">Not created: ${data.draft.error}</p>`}
<form method="post" action="/guilds/${guildId}/digests" class="create"${data.draft === undefined ? html`` : html` aria-describedby="create-error"`}>
${csrf}<input type="hidden" name="action" value="create">
<p><label for="d-source">Source (channel or category)</label>
<select id="d-source" name="source" required>
<optgroup label="Channels">${channels.map((c) => option(c.id, `#${c.name}`, value('source')))}</optgroup>
${categories.length === 0 ? html`` : html`<optgroup label="Categories">${categories.map((c) => option(c.id, `${c.name} (category)`, value('source')))}</optgroup>`}
</select></p>
<p><label for="d-destination">Post to</label>
<select id="d-destination" name="destination" required>${channels.map((c) => option(c.id, `#${c.name}`, value('destination')))}</select>
<small>Everyone who can see this channel must be able to read the source.</small></p>
<p><label for="d-every">Every</label>
<select id="d-every" name="every">${CADENCES.map((c) => option(c, c, value('every', 'daily')))}</select></p>
<p><label for="d-at">At (24-hour, in that zone)</label>
<input id="d-at" name="at" type="time" value="${value('at', '09:00')}"></p>
<p><label for="d-cron">Cron expression (for a cron schedule)</label>
<input id="d-cron" name="cron" value="${value('cron')}" placeholder="0 9 * * 1-5" maxlength="100" autocomplete="off"></p>
<p><label for="d-timezone">Time zone</label>
<input id="d-timezone" name="timezone" list="d-timezones" value="${value('timezone', 'UTC')}" maxlength="64" autocomplete="off" required>
<datalist id="d-timezones">${timeZones.map((z) => html`<option value="${z}">`)}</datalist></p>
<p><label for="d-type">Type (optional, e.g. brief)</label>
<input id="d-type" name="type" value="${value('type')}" maxlength="64" autocomplete="off"></p>
<p><label for="d-perspective">Perspective (optional)</label>
<input id="d-perspective" name="perspective" value="${value('perspective')}" maxlength="64" autocomplete="off"></p>
<p><label for="d-language">Language</label>
<select id="d-language" name="language">${option('', 'The server\'s default', value('language'))}${LANGUAGES.map((l) => option(l.code, l.name, value('language')))}</select></p>
<p><input id="d-quiet" name="skip_if_quiet" type="checkbox" value="on"${values.get('skip_if_quiet') === 'on' ? html` checked` : html``}>
<label for="d-quiet">Skip a run when there are no new messages</label></p>
<p><button type="submit">Create digest</button></p>
</form>
</section>`;
}

const when = (d: Date): Html => html`<time datetime="${d.toISOString()}">${d.toISOString().replace('T', ' ').slice(0, 16)} UTC</time>`;

/** Digests of the server with their last runs, and a form to create one; every form posts the session's CSRF token. */
export function digestsPage(chrome: Omit<PageChrome, 'title'>, guildId: string, data: DigestsData): Html {
  const csrf = html`<input type="hidden" name="csrf" value="${chrome.user?.csrfToken ?? ''}">`;
  const channel = (id: string): string => `#${data.names.get(id) ?? id}`;
  return layout(
    { ...chrome, title: 'Digests' },
    html`${data.notice === undefined ? html`` : html`<p role="status" class="notice">${data.notice}</p>`}
${data.error === undefined ? html`` : html`<p role="alert">${data.error}</p>`}
<p>Scheduled summaries of a channel or category, posted to a channel. Create one below or with <code>/digest create</code> in Discord.</p>
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
}
${createForm(guildId, csrf, data)}`,
  );
}
