import type { ParsedRepo, Routing } from './parsed.ts';
import type { PickResult, RouteMemoEntry } from './route-memo.ts';
import { expandTemplate } from './route-template.ts';
import { DEFAULT_SEGMENT, MAX_SEGMENT_CHARS, sanitizeSegment } from './sanitize.ts';
import type { PromptContext } from './types.ts';
import { contextValue, variableValue } from './variables.ts';

/**
 * Characters of candidate paths one request may produce. A PATH file of 500
 * routes over 100 variables with 100-character values would otherwise make
 * tens of megabytes of paths per request; ordinary repos produce well under
 * a kilobyte. Routes past it are not tried (the resolution report lists what
 * was).
 */
export const MAX_CANDIDATE_CHARS = 64 * 1024;

/** Candidate lists longer than this are recomputed per request instead of remembered, so the memo stays small. */
const MAX_MEMO_CANDIDATE_CHARS = 4 * 1024;

/**
 * The paths a request may be served from, best first, without duplicates:
 * each route of the fallback chain whose `when` matches, with its variables
 * substituted, then with the last variable, the last two, … replaced by
 * `default`. Values are sanitized, so every path stays inside the repository.
 */
export function routeCandidates(repo: ParsedRepo, ctx: PromptContext): readonly string[] {
  return memoEntry(repo, ctx).candidates;
}

/** The first candidate that is a usable prompt of the snapshot, with every path tried. */
export function pickPrompt(repo: ParsedRepo, ctx: PromptContext): PickResult {
  const entry = memoEntry(repo, ctx);
  if (entry.pick !== undefined) return entry.pick;
  const tried: string[] = [];
  const passedOver: Array<{ path: string; reason: string }> = [];
  let path: string | null = null;
  for (const candidate of entry.candidates) {
    tried.push(candidate);
    if (repo.prompts.has(candidate)) {
      path = candidate;
      break;
    }
    const reason = repo.skipped.get(candidate);
    if (reason !== undefined) passedOver.push({ path: candidate, reason });
  }
  entry.pick = Object.freeze({ path, tried: Object.freeze(tried), passedOver: Object.freeze(passedOver) });
  return entry.pick;
}

/** Candidates computed from scratch: no memo, for callers holding only a Routing. */
export function computeCandidates(routing: Routing, ctx: PromptContext, maxChars = MAX_CANDIDATE_CHARS): string[] {
  const values = new Map<string, string>();
  for (const name of routing.keyVariables) {
    values.set(name, sanitizeSegment(variableValue(ctx, name, routing.variables)) ?? DEFAULT_SEGMENT);
  }
  const out: string[] = [];
  const seen = new Set<string>();
  let chars = 0;
  for (const route of routing.chain) {
    if (route.when !== null && !route.when.every((c) => c.values.has(values.get(c.variable)!))) continue;
    const { template } = route;
    const routeValues = template.variables.map((v) => values.get(v)!);
    for (let defaulted = 0; defaulted <= routeValues.length; defaulted++) {
      const path = expandTemplate(template, routeValues, defaulted);
      if (!seen.has(path)) {
        chars += path.length;
        if (chars > maxChars) return out;
        seen.add(path);
        out.push(path);
      }
    }
  }
  return out;
}

function memoEntry(repo: ParsedRepo, ctx: PromptContext): RouteMemoEntry {
  const key = memoKey(repo.routing, ctx);
  const known = repo.memo.get(key);
  if (known !== undefined) return known;
  const candidates = computeCandidates(repo.routing, ctx);
  const entry: RouteMemoEntry = { candidates: Object.freeze(candidates) };
  if (candidates.reduce((n, path) => n + path.length, 0) <= MAX_MEMO_CANDIDATE_CHARS) repo.memo.set(key, entry);
  return entry;
}

/**
 * Exactly the inputs routing reads: the raw value of each variable it uses.
 * Sanitizing looks at the first 100 characters only, so longer values are
 * cut here too, which bounds the key; lengths keep the key unambiguous.
 */
function memoKey(routing: Routing, ctx: PromptContext): string {
  let key = '';
  for (const name of routing.keyVariables) {
    const raw = contextValue(ctx, name) ?? '';
    const head = raw.length > MAX_SEGMENT_CHARS ? raw.slice(0, MAX_SEGMENT_CHARS) : raw;
    key += `${head.length}:${head}`;
  }
  return key;
}
