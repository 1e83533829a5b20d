import { html, type Html } from '../html.ts';
import { layout } from '../layout.ts';

export function loginPage(notice?: string): Html {
  return layout(
    { title: 'Log in' },
    html`${notice === undefined ? html`` : html`<p role="alert">${notice}</p>`}
<p>The dashboard shows your servers' prompt repository, summaries and spend. Log in with your Discord account:
it reads your user name and the list of your servers, nothing else.</p>
<p><a class="button" href="/auth/login">Log in with Discord</a></p>`,
  );
}
