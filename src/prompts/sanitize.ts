/** Longest value a variable contributes to a path. */
export const MAX_SEGMENT_CHARS = 100;

/** What a variable becomes in the fallback variants of a route, and when it has no value. */
export const DEFAULT_SEGMENT = 'default';

const OUTSIDE_SAFE = /[^a-z0-9_-]/gu;

/**
 * A context value made safe for a path: lowercased, anything outside
 * `[a-z0-9_-]` replaced by `_`, at most 100 characters. The result holds no
 * `.` and no separator, so it can never be `..` nor add a path segment.
 * Undefined when nothing is left (the caller uses `default`).
 */
export function sanitizeSegment(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  // Each input character yields at least one output character, so the first
  // 100 input characters decide the whole result: hostile megabytes cost nothing.
  const head = raw.length > MAX_SEGMENT_CHARS ? raw.slice(0, MAX_SEGMENT_CHARS) : raw;
  const safe = head.toLowerCase().replace(OUTSIDE_SAFE, '_');
  return safe.length > MAX_SEGMENT_CHARS ? safe.slice(0, MAX_SEGMENT_CHARS) : safe;
}
