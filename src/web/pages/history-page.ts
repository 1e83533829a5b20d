import type { ViewChannel } from '../bot-view.ts';
import type { HistoryEntry } from '../data/summary-history.ts';
import { html, safeHref, type Html } from '../html.ts';
import { layout, type PageChrome } from '../layout.ts';

export interface HistoryData {
  channels: ViewChannel[];
  entries: HistoryEntry[];
  filter: { channelId: string; from: string; to: string };
  limit: number;
  error?: string | undefined;
}

/** Citation `[n]` markers in the text become links to the cited message; everything else stays text. */
function withCitations(entry: HistoryEntry): Html {
  const byRef = new Map(entry.citations.map((c) => [c.ref, c]));
  const parts: Html[] = [];
  let last = 0;
  for (const match of entry.text.matchAll(/\[(\d{1,4})\]/g)) {
    const citation = byRef.get(Number(match[1]));
    if (citation?.jumpUrl === undefined) continue;
    parts.push(html`${entry.text.slice(last, match.index)}<a href="${safeHref(citation.jumpUrl)}">[${match[1]}]</a>`);
    last = match.index + match[0].length;
  }
  parts.push(html`${entry.text.slice(last)}`);
  return html`${parts}`;
}

export function historyPage(chrome: Omit<PageChrome, 'title'>, guildId: string, data: HistoryData): Html {
  const names = new Map(data.channels.map((c) => [c.id, c.name]));
  const { filter } = data;
  return layout(
    { ...chrome, title: 'Summaries' },
    html`<p>Summaries of the channels you can read now.</p>
<form method="get" action="/guilds/${guildId}/summaries" class="filters">
<p><label for="channel">Channel</label>
<select id="channel" name="channel">
  <option value="">All channels you can read</option>
  ${data.channels.map((c) => html`<option value="${c.id}"${c.id === filter.channelId ? html` selected` : html``}>#${c.name}</option>`)}
</select>
<label for="from">From</label> <input type="date" id="from" name="from" value="${filter.from}">
<label for="to">To</label> <input type="date" id="to" name="to" value="${filter.to}">
<button type="submit">Filter</button></p>
</form>
${data.error === undefined ? html`` : html`<p role="alert">${data.error}</p>`}
${
  data.entries.length === 0
    ? html`<p>No summaries match.</p>`
    : html`<ol class="history" reversed>
${data.entries.map(
  (e) => html`<li><article data-summary-id="${e.id}" data-channel-id="${e.channelId}">
<h2>#${names.get(e.channelId) ?? e.channelId} · <time datetime="${e.createdAt.toISOString()}">${e.createdAt.toISOString().replace('T', ' ').slice(0, 16)} UTC</time></h2>
<p class="meta">${e.type}, ${e.messageCount} messages, ${e.model}</p>
<div class="summary-text">${withCitations(e)}</div>
</article></li>`,
)}
</ol>
${data.entries.length === data.limit ? html`<p>Showing the newest ${data.limit}; narrow the dates to see older ones.</p>` : html``}`
}`,
  );
}
