import { html, type Html } from '../html.ts';
import { layout, type PageChrome } from '../layout.ts';

/** A refusal or an error: a heading, a sentence saying why, a way back. */
export function messagePage(chrome: PageChrome, message: string): Html {
  return layout(chrome, html`<p role="alert">${message}</p>
<p><a href="/">Back to your servers</a></p>`);
}
