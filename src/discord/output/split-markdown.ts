/**
 * Cuts Discord markdown into pieces that each render on their own: never in
 * the middle of a word when a whitespace break exists, never leaving a code
 * block open (a block cut in two is closed at the end of one piece and
 * reopened, with its language, at the start of the next), and never inside
 * an inline code span. Breaks are preferred at paragraph ends, then line
 * ends, then spaces.
 *
 * A code fence is a run of three backticks; a line holding an odd number of
 * them opens or closes a block, as Discord's renderer reads them.
 */

const FENCE = '```';
const CLOSE = `\n${FENCE}`;
/** Smallest piece size that can always make progress, reopened fence included. */
export const MIN_PIECE_CHARS = 64;

export class MarkdownPager {
  #rest: string;

  constructor(text: string) {
    this.#rest = text.replace(/\r\n?/g, '\n').trim();
  }

  get done(): boolean {
    return this.#rest.length === 0;
  }

  /** Characters left, reopened fences included. */
  get remaining(): number {
    return this.#rest.length;
  }

  /** The next piece of at most `max` characters ('' once done). */
  take(max: number): string {
    if (!Number.isSafeInteger(max) || max < MIN_PIECE_CHARS) throw new RangeError(`a piece must allow at least ${MIN_PIECE_CHARS} characters, got ${max}`);
    const rest = this.#rest;
    if (rest.length <= max) {
      this.#rest = '';
      return rest;
    }
    const cut = chooseCut(rest, max);
    const head = rest.slice(0, cut.at).trimEnd();
    let tail = rest.slice(cut.at);
    if (cut.openFence === null) {
      tail = tail.trimStart();
    } else {
      // Inside code, indentation matters: drop only the line break the cut sits on.
      tail = tail.startsWith('\n') ? tail.slice(1) : tail.replace(/^ /, '');
      tail = `${cut.openFence}\n${tail}`;
    }
    this.#rest = tail.trimEnd();
    return cut.openFence === null ? head : `${head}${CLOSE}`;
  }
}

/** All pieces at once, each at most `max` characters. */
export function splitMarkdown(text: string, max: number): string[] {
  const pager = new MarkdownPager(text);
  const pieces: string[] = [];
  while (!pager.done) pieces.push(pager.take(max));
  return pieces;
}

interface Cut {
  /** Index in the text where the piece ends. */
  at: number;
  /** The fence line to reopen with when the cut falls inside a code block. */
  openFence: string | null;
}

interface Line {
  start: number;
  /** Index of the line's '\n' (or the text's end). */
  end: number;
  /** The open block's fence line before this line, or null. */
  openBefore: string | null;
  openAfter: string | null;
  toggles: boolean;
}

/**
 * The best place to end a piece within `max` characters, leaving room for a
 * closing fence. Later breaks win within a priority; a higher priority wins
 * when it still fills at least half the piece.
 */
function chooseCut(text: string, max: number): Cut {
  const limit = max - CLOSE.length;
  const lines = scanLines(text, max + 1);
  let best: { at: number; priority: number; open: string | null } | undefined;
  const consider = (at: number, priority: number, open: string | null): void => {
    if (at <= 0 || at > limit) return;
    const piece = text.slice(0, at).trimEnd();
    if (piece.length === 0) return;
    const filled = at >= limit / 2;
    if (best === undefined) {
      best = { at, priority, open };
      return;
    }
    const bestFilled = best.at >= limit / 2;
    if (filled && !bestFilled) best = { at, priority, open };
    else if (filled === bestFilled && (priority > best.priority || (priority === best.priority && at > best.at))) best = { at, priority, open };
  };

  for (const [index, line] of lines.entries()) {
    // Line and paragraph breaks: the cut sits on the '\n' ending this line.
    if (line.end < text.length) {
      const next = lines[index + 1];
      const opensHere = line.toggles && line.openAfter !== null;
      const nextCloses = next !== undefined && next.toggles && line.openAfter !== null;
      // Never end a piece with a fence that opens a block, nor reopen a block only to close it at once.
      if (!opensHere && !nextCloses) {
        const paragraph = line.openAfter === null && text[line.end + 1] === '\n';
        consider(line.end, paragraph ? 3 : 2, line.openAfter);
      }
    }
    // Spaces inside a line (not on fence lines, not inside inline code).
    if (line.toggles) continue;
    let ticks = 0;
    for (let i = line.start; i < Math.min(line.end, limit + 1); i++) {
      const c = text[i];
      if (c === '`') ticks++;
      else if ((c === ' ' || c === '\t') && ticks % 2 === 0) consider(i, line.openBefore === null ? 1 : 0, line.openBefore);
    }
  }
  if (best !== undefined) return { at: best.at, openFence: best.open };

  // One word longer than a piece (a long URL, a base64 blob): cut it, keeping surrogate pairs whole.
  let at = limit;
  const code = text.charCodeAt(at - 1);
  if (code >= 0xd800 && code <= 0xdbff) at -= 1;
  const line = lines.find((l) => at >= l.start && at <= l.end);
  return { at, openFence: line?.openBefore ?? null };
}

/** Lines starting before `until`, with the code-block state around each. */
function scanLines(text: string, until: number): Line[] {
  const lines: Line[] = [];
  let open: string | null = null;
  let start = 0;
  while (start < text.length && start < until) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const content = text.slice(start, end);
    const fences = countFences(content);
    const toggles = fences % 2 === 1;
    const openBefore = open;
    if (toggles) open = open === null ? fenceLine(content) : null;
    lines.push({ start, end, openBefore, openAfter: open, toggles });
    start = end + 1;
  }
  return lines;
}

function countFences(line: string): number {
  let count = 0;
  for (let i = line.indexOf(FENCE); i >= 0; i = line.indexOf(FENCE, i + FENCE.length)) count++;
  return count;
}

/** The opening fence to repeat, with its language when the line names one (```ts). */
function fenceLine(line: string): string {
  const last = line.lastIndexOf(FENCE);
  const language = /^[A-Za-z0-9_+#.-]{1,20}$/.exec(line.slice(last + FENCE.length).trim())?.[0] ?? '';
  return `${FENCE}${language}`;
}
