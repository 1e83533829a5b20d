import type { ResolvedPrompt } from '../../prompts/types.ts';
import type { ViewChannel } from '../bot-view.ts';
import { html, type Html } from '../html.ts';
import { layout, type PageChrome } from '../layout.ts';

export interface TesterInput {
  channelId: string;
  category: string;
  type: string;
  perspective: string;
}

export interface TesterData {
  channels: ViewChannel[];
  input: TesterInput;
  /** Set when a request was tested. */
  resolved?: ResolvedPrompt | undefined;
  error?: string | undefined;
}

const field = (id: string, label: string, value: string, hint: string): Html =>
  html`<p><label for="${id}">${label}</label> <input id="${id}" name="${id}" value="${value}" aria-describedby="${id}-hint" maxlength="64" pattern="[A-Za-z0-9_ -]*"> <small id="${id}-hint">${hint}</small></p>`;

export function testerPage(chrome: Omit<PageChrome, 'title'>, guildId: string, data: TesterData): Html {
  const { input, resolved } = data;
  return layout(
    { ...chrome, title: 'Resolution tester' },
    html`<p>Which prompt a summary with these choices would get, and how it was found: the same resolution <code>/prompt-config test</code> shows.</p>
<form method="get" action="/guilds/${guildId}/test" class="tester">
<p><label for="channel">Channel</label>
<select id="channel" name="channel">
  ${data.channels.map((c) => html`<option value="${c.id}"${c.id === input.channelId ? html` selected` : html``}>#${c.name}</option>`)}
</select></p>
${field('category', 'Category', input.category, 'empty: the default category')}
${field('type', 'Summary type', input.type, 'e.g. brief, detailed, action_items')}
${field('perspective', 'Perspective', input.perspective, 'e.g. general, developer')}
<p><button type="submit">Test</button></p>
</form>
${data.error === undefined ? html`` : html`<p role="alert">${data.error}</p>`}
${
  resolved === undefined
    ? html``
    : html`<section aria-labelledby="trace-h" data-testid="trace">
<h2 id="trace-h">Trace</h2>
<dl class="facts">
  <dt>Level</dt><dd data-testid="trace-level">${resolved.level}</dd>
  <dt>Source</dt><dd>${resolved.repo === null ? 'compiled-in fallback' : resolved.repo === 'bundled' ? 'bundled prompts' : `${resolved.repo}${resolved.ref === null ? '' : `@${resolved.ref}`}`}</dd>
  <dt>Commit</dt><dd><code>${resolved.commit ?? 'none'}</code></dd>
  <dt>Path used</dt><dd><code data-testid="trace-path">${resolved.path ?? 'none (no file matched)'}</code></dd>
</dl>
<h3>Paths tried</h3>
<ol class="tried">${resolved.tried.map((p) => html`<li><code>${p}</code>${p === resolved.path ? ' ← used' : ''}</li>`)}</ol>
<h3>Earlier levels passed over</h3>
${resolved.reasons.length === 0 ? html`<p>None: the first level served.</p>` : html`<ul>${resolved.reasons.map((r) => html`<li><strong>${r.level}</strong>: ${r.reason}</li>`)}</ul>`}
${resolved.warnings.length === 0 ? html`` : html`<h3>Warnings</h3><ul>${resolved.warnings.map((w) => html`<li>${w}</li>`)}</ul>`}
<h3>Rendered prompt</h3>
<pre class="prompt" data-testid="rendered">${resolved.content}</pre>
</section>`
}`,
  );
}
