import { html, type Html } from '../html.ts';
import { layout, type PageChrome } from '../layout.ts';

export interface GuildRow {
  id: string;
  name: string;
  /** Manage Server, per Discord's list at login (each admin page checks again). */
  admin: boolean;
}

export function guildsPage(chrome: Omit<PageChrome, 'title'>, guilds: readonly GuildRow[]): Html {
  return layout(
    { ...chrome, title: 'Your servers' },
    guilds.length === 0
      ? html`<p>None of your servers has recap-bot. Invite it to a server you manage, then log in again.</p>`
      : html`<ul class="guilds">
${guilds.map(
  (g) => html`<li><a href="/guilds/${g.id}${g.admin ? '' : '/summaries'}">${g.name}</a> ${g.admin ? html`<span class="tag">Manage Server</span>` : html`<span class="tag muted">member</span>`}</li>`,
)}
</ul>`,
  );
}
