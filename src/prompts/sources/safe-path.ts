/** Longest repo-relative path we accept; Git allows more, but no prompt repo needs it. */
const maxPathLength = 1024;

// C0 controls and DEL: invisible in admin-facing messages and a classic
// source of confusion (e.g. a name ending in "\r").
// eslint-disable-next-line no-control-regex
const controlCharacters = /[\u0000-\u001f\u007f]/;

/**
 * Checks a repo-relative POSIX path taken from an untrusted listing (a tar
 * entry, a directory). Returns why it is unsafe, or undefined when it is fine.
 */
export function unsafePathReason(path: string): string | undefined {
  if (path === '') return 'empty path';
  if (path.length > maxPathLength) return `path longer than ${maxPathLength} characters`;
  if (path.includes('\u0000')) return 'path contains a NUL byte';
  if (controlCharacters.test(path)) return 'path contains a control character';
  if (path.includes('\\')) return 'path contains a backslash';
  if (path.includes('\ufffd')) return 'path is not valid UTF-8';
  if (path.startsWith('/')) return 'absolute path';
  if (/^[A-Za-z]:/.test(path)) return 'path starts with a drive letter';
  for (const segment of path.split('/')) {
    if (segment === '') return 'path has an empty segment';
    if (segment === '..') return 'path contains ".."';
    if (segment === '.') return 'path contains "."';
  }
  return undefined;
}
