/**
 * Safety of the paths a repository names (route patterns, includes) and of the
 * paths a snapshot holds. Everything here is about staying inside the repo.
 */

export interface PathIssue {
  code: string;
  /** Completes "route `x` …" / "include `x` …": starts with a verb. */
  message: string;
  /** Character offset of the offending text in the checked string. */
  offset: number;
}

/** Characters allowed in what a repository names: plain ASCII path text. */
const ALLOWED = /[A-Za-z0-9._\-/]/;

function codePointLabel(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Checks a repository path as written by an admin. `{var}` placeholders must
 * already be replaced by same-length filler so offsets stay true.
 */
export function checkRepoPath(path: string): PathIssue | null {
  if (path === '') return { code: 'path.empty', message: 'is empty', offset: 0 };
  const nul = path.indexOf('\0');
  if (nul !== -1) return { code: 'path.nul', message: 'contains a NUL character', offset: nul };
  const backslash = path.indexOf('\\');
  if (backslash !== -1) {
    return { code: 'path.backslash', message: 'uses `\\`; separate folders with `/`', offset: backslash };
  }
  if (path.startsWith('/')) {
    return {
      code: 'path.absolute',
      message: 'starts with `/`; write paths relative to the repository root',
      offset: 0,
    };
  }
  const percent = path.indexOf('%');
  if (percent !== -1) {
    return {
      code: 'path.percent-encoding',
      message: 'uses percent-encoding (`%`); write the path as plain text',
      offset: percent,
    };
  }
  let offset = 0;
  for (const ch of path) {
    if (!ALLOWED.test(ch)) {
      const folded = ch.normalize('NFKC');
      if (folded !== ch && /[./\\]/.test(folded)) {
        return {
          code: 'path.lookalike',
          message: `uses \`${ch}\` (${codePointLabel(ch)}), which looks like \`${folded}\`; paths must stay inside the repository and use plain ASCII`,
          offset,
        };
      }
      const shown = /\s/.test(ch) ? 'a space' : /[\u0000-\u001f\u007f]/.test(ch) ? 'a control character' : `\`${ch}\``;
      return {
        code: 'path.character',
        message: `contains ${shown} (${codePointLabel(ch)}); paths may use only letters, digits, \`.\`, \`_\`, \`-\` and \`/\``,
        offset,
      };
    }
    offset += ch.length;
  }
  let start = 0;
  for (const segment of path.split('/')) {
    if (segment === '..') {
      return { code: 'path.parent', message: 'uses `..`; paths must stay inside the repository', offset: start };
    }
    if (segment === '.') {
      return { code: 'path.dot-segment', message: 'has a `.` folder; remove the `./`', offset: start };
    }
    if (segment === '') {
      return {
        code: 'path.empty-segment',
        message: start === path.length ? 'ends with `/`; name a file' : 'has an empty folder name (`//`)',
        offset: start,
      };
    }
    start += segment.length + 1;
  }
  return null;
}

/** Drops leading `./` that real-world files sometimes carry; returns how many characters went. */
export function stripLeadingDotSlash(path: string): number {
  let cut = 0;
  while (path.startsWith('./', cut)) cut += 2;
  return cut;
}

/**
 * Whether a path a snapshot claims to hold is one we may look at. Looser than
 * checkRepoPath (any name a Git tree can hold), but nothing that climbs out.
 */
export function isSafeSnapshotPath(path: string): boolean {
  if (path === '' || path.startsWith('/') || path.includes('\\') || path.includes('\0')) return false;
  if (/[\u0000-\u001f\u007f]/.test(path)) return false;
  return path.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}
