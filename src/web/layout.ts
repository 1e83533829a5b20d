import { html, type Html } from './html.ts';

export interface PageChrome {
  title: string;
  /** Logged-in user: shows the logout form (with its CSRF token). */
  user?: { name: string; csrfToken: string };
  /** Guild pages: the guild's navigation, `current` marked for screen readers. */
  guild?: { id: string; name: string; admin: boolean; current: GuildTab };
  scripts?: string[];
  styles?: string[];
}

export type GuildTab = 'overview' | 'test' | 'summaries' | 'digests' | 'usage' | 'keys';

const TABS: ReadonlyArray<{ tab: GuildTab; label: string; path: string; admin: boolean }> = [
  { tab: 'overview', label: 'Overview', path: '', admin: true },
  { tab: 'test', label: 'Resolution tester', path: '/test', admin: true },
  { tab: 'summaries', label: 'Summaries', path: '/summaries', admin: false },
  { tab: 'digests', label: 'Digests', path: '/digests', admin: true },
  { tab: 'usage', label: 'Usage and spend', path: '/usage', admin: true },
  { tab: 'keys', label: 'Keys and budget', path: '/keys', admin: true },
];

/** The one page shell: semantic landmarks, a skip link, the guild's tabs. */
export function layout(chrome: PageChrome, body: Html): Html {
  const guild = chrome.guild;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${chrome.title} · recap-bot</title>
<link rel="stylesheet" href="/static/dashboard.css">
${(chrome.styles ?? []).map((href) => html`<link rel="stylesheet" href="${href}">`)}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
  <nav aria-label="Site">
    <a href="/" class="brand">recap-bot</a>
    ${
      chrome.user === undefined
        ? html``
        : html`<span class="who">Logged in as ${chrome.user.name}</span>
    <form method="post" action="/auth/logout" class="inline">
      <input type="hidden" name="csrf" value="${chrome.user.csrfToken}">
      <button type="submit">Log out</button>
    </form>`
    }
  </nav>
  ${
    guild === undefined
      ? html``
      : html`<nav aria-label="${guild.name}" class="tabs">
    <span class="guild">${guild.name}</span>
    <ul>
      ${TABS.filter((t) => guild.admin || !t.admin).map(
        (t) => html`<li><a href="/guilds/${guild.id}${t.path}"${t.tab === guild.current ? html` aria-current="page"` : html``}>${t.label}</a></li>`,
      )}
    </ul>
  </nav>`
  }
</header>
<main id="main">
<h1>${chrome.title}</h1>
${body}
</main>
${(chrome.scripts ?? []).map((src) => html`<script src="${src}" defer></script>`)}
</body>
</html>
`;
}
