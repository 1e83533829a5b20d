/**
 * Closes the Discord markdown a cut quote leaves open. A quote cut inside a
 * code fence would turn the rest of the summary into code (and its citations
 * into plain text); one cut inside `**` or `||` bolds or hides what follows.
 * Fences and inline code are closed with the backticks that opened them,
 * emphasis in reverse order of opening; a fence that opens on nothing is
 * dropped. Nothing inside code counts as markup, and `\` escapes a marker.
 */

const EMPHASIS = ['**', '__', '~~', '||'] as const;

export function balanceMarkdown(text: string): string {
  const open: string[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i]!;
    if (char === '\\') {
      i += 2;
      continue;
    }
    if (char === '`') {
      const run = backtickRun(text, i);
      const close = text.indexOf(run, i + run.length);
      // Code runs until the same run of backticks; everything in between is literal.
      if (close === -1) return closeCode(text, i, run, open);
      i = close + run.length;
      continue;
    }
    const marker = EMPHASIS.find((m) => text.startsWith(m, i));
    if (marker !== undefined) {
      const at = open.lastIndexOf(marker);
      if (at === -1) open.push(marker);
      else open.splice(at, 1);
      i += marker.length;
      continue;
    }
    i++;
  }
  return closeEmphasis(text, open);
}

/** The run of backticks starting at `start`: one or two for inline code, three for a fence. */
function backtickRun(text: string, start: number): string {
  let end = start;
  while (end < text.length && text[end] === '`' && end - start < 3) end++;
  return text.slice(start, end);
}

/** The text ends inside code opened at `start` with `run`. */
function closeCode(text: string, start: number, run: string, open: readonly string[]): string {
  const body = text.slice(start + run.length);
  const empty = run.length === 3 ? /^\w*\s*$/.test(body) : body.trim() === '';
  if (empty) return closeEmphasis(text.slice(0, start).trimEnd(), open);
  return closeEmphasis(`${text.trimEnd()}${run}`, open);
}

function closeEmphasis(text: string, open: readonly string[]): string {
  return `${text}${[...open].reverse().join('')}`;
}
