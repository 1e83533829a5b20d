/**
 * Member text goes to a language model as data inside delimiters. These
 * helpers make sure it stays data: no invisible or control characters that
 * hide or reorder text, no line breaks that could forge a new message line,
 * and no way to close the delimited block from inside.
 */

export const CONVERSATION_OPEN = '<conversation>';
export const CONVERSATION_CLOSE = '</conversation>';

// C0/C1 controls except tab and newline; bidi embeddings, overrides and
// isolates (they reorder what a reader sees); zero-width and soft-hyphen
// characters (they hide text inside words, e.g. inside a delimiter).
const INVISIBLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u00AD\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;

// Everything a reader or a model may take for the end of a line: CR LF, CR,
// vertical tab, form feed, next line (U+0085), line and paragraph separators.
const LINE_BREAKS = /\r\n|[\r\u000B\u000C\u0085\u2028\u2029]/g;

/** Removes control and invisible characters; tabs become spaces and every kind of line break becomes `\n`. */
export function stripControl(text: string): string {
  return text.replace(LINE_BREAKS, '\n').replace(/\t/g, ' ').replace(INVISIBLE, '');
}

// Anything that could read as the block's tag, whatever the case, spacing or
// look-alike characters: `</conversation>`, `< / CONVERSATION >`,
// `＜／ｃｏｎｖｅｒｓａｔｉｏｎ＞`. Each opening bracket is judged by the NFKC
// form of what follows it, so fullwidth, small and mathematical letter forms
// count too, while the text itself is left as written.
const OPENERS = /[<\uFF1C\uFE64]/g;
const NAMES_BLOCK = /^\s*\/?\s*conversation/i;
const LOOKAHEAD_UNITS = 64;

/** Replaces the bracket of anything that could open or close the conversation block with `‹`. */
export function neutraliseDelimiters(text: string): string {
  return text.replace(OPENERS, (bracket: string, offset: number) => {
    const start = offset + bracket.length;
    const following = text.slice(start, start + LOOKAHEAD_UNITS).replace(INVISIBLE, '').normalize('NFKC');
    return NAMES_BLOCK.test(following) ? '‹' : bracket;
  });
}

/** One physical line: line breaks are shown as ⏎ so member text cannot start a line of its own. */
function toOneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ⏎ ').trim();
}

/** Everything a piece of member text needs before it is placed in a transcript line. */
export function safeInline(text: string): string {
  return neutraliseDelimiters(toOneLine(stripControl(text)));
}

/**
 * Display names sit in the structural part of a line, so on top of the
 * above they lose square brackets (a name like "Bob [3]" could pass for a
 * message reference) and are kept short.
 */
export function safeName(name: string, maxChars = 64): string {
  const clean = stripControl(name).replace(/\s+/g, ' ').replace(/\[/g, '(').replace(/\]/g, ')').trim();
  const chars = [...clean];
  const short = chars.length > maxChars ? `${chars.slice(0, maxChars).join('')}…` : clean;
  // Last, so that no earlier step (joining lines, cutting) can form a delimiter again.
  return neutraliseDelimiters(short) || 'unnamed';
}

/** Longest text one member-controlled value contributes to system text. */
export const MAX_SYSTEM_VALUE_CHARS = 100;

// Brackets that open or close a tag of ours (or look like one), and braces
// that open a template variable, in their ASCII and compatibility forms.
const DELIMITERS = /[<>\uFF1C\uFF1E\uFE64\uFE65{}\uFF5B\uFF5D]/g;

/**
 * A member-controlled value (a channel, thread or guild name, a nickname, a
 * question) made fit for system text: one line (every line break and
 * control character becomes a space, whitespace runs collapse), no
 * invisible characters, nothing that could open a tag or a template
 * variable, and at most `maxChars` characters (an ellipsis marks the cut).
 * Empty when nothing is left.
 */
export function systemLine(value: string, maxChars = MAX_SYSTEM_VALUE_CHARS): string {
  // Nothing below makes text longer, and the result keeps at most maxChars
  // code points: a bounded head of hostile megabytes decides it.
  const budget = maxChars * 8;
  const head = value.length > budget ? value.slice(0, budget) : value;
  const flat = stripControl(head)
    .replace(DELIMITERS, '')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = [...flat];
  if (chars.length > maxChars) return `${chars.slice(0, maxChars).join('').trimEnd()}…`;
  return value.length > budget && flat !== '' ? `${flat}…` : flat;
}
