import { html, type Html } from '../html.ts';
import { layout, type PageChrome } from '../layout.ts';

export interface KeysData {
  /** Providers a key can be stored for, with when this guild's key was set (never the key). */
  providers: Array<{ name: string; storedAt: Date | undefined }>;
  enabled: string[];
  providerOrder: string[] | undefined;
  dailyBudgetUsd: number | null;
  allowOperatorKey: boolean;
  notice?: string | undefined;
  error?: string | undefined;
}

/**
 * Keys are write-only here: a stored key is never sent back, only whether
 * one is stored and since when. Every form carries the session's CSRF token.
 */
export function keysPage(chrome: Omit<PageChrome, 'title'>, guildId: string, data: KeysData): Html {
  const csrf = html`<input type="hidden" name="csrf" value="${chrome.user?.csrfToken ?? ''}">`;
  return layout(
    { ...chrome, title: 'Keys and budget' },
    html`${data.notice === undefined ? html`` : html`<p role="status" class="notice">${data.notice}</p>`}
${data.error === undefined ? html`` : html`<p role="alert">${data.error}</p>`}
<section aria-labelledby="keys-h">
<h2 id="keys-h">Provider keys</h2>
<p>A key you save is stored encrypted and used only for this server's requests. It is never shown again, here or anywhere.</p>
${data.providers.length === 0 ? html`<p>No enabled provider takes a key.</p>` : html``}
${data.providers.map(
  (p) => html`<form method="post" action="/guilds/${guildId}/keys" class="key">
${csrf}<input type="hidden" name="provider" value="${p.name}">
<fieldset><legend>${p.name}</legend>
<p>${p.storedAt === undefined ? 'No key stored.' : html`Key stored, set <time datetime="${p.storedAt.toISOString()}">${p.storedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC</time>.`}</p>
<p><label for="key-${p.name}">New key for ${p.name}</label>
<input type="password" id="key-${p.name}" name="key" autocomplete="off" minlength="8" maxlength="512" value="">
<button type="submit" name="action" value="set">Save key</button>
${p.storedAt === undefined ? html`` : html`<button type="submit" name="action" value="remove">Remove stored key</button>`}</p>
</fieldset></form>`,
)}
</section>
<section aria-labelledby="budget-h">
<h2 id="budget-h">Budget and provider order</h2>
<form method="post" action="/guilds/${guildId}/settings">
${csrf}
<p><label for="budget">Daily budget (USD, calls paid with the operator's key)</label>
<input id="budget" name="budget" inputmode="decimal" value="${data.dailyBudgetUsd === null ? '' : String(data.dailyBudgetUsd)}" aria-describedby="budget-hint">
<small id="budget-hint">Empty: no limit. 0 switches operator-paid calls off.</small></p>
<p><label for="order">Provider order</label>
<input id="order" name="order" value="${(data.providerOrder ?? []).join(', ')}" aria-describedby="order-hint">
<small id="order-hint">Comma-separated, from: ${data.enabled.join(', ') || 'none enabled'}. Empty: the operator's order.</small></p>
<p>Operator's key when this server has none: ${data.allowOperatorKey ? 'allowed' : 'not allowed'} (change with <code>/ai-config operator-key</code>).</p>
<p><button type="submit">Save</button></p>
</form>
</section>`,
  );
}
