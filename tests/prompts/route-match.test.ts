import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/prompts/problems.ts';
import { matchesTemplate } from '../../src/prompts/route-match.ts';
import { MAX_CANDIDATE_CHARS, pickPrompt, routeCandidates } from '../../src/prompts/route.ts';
import { compileRouteTemplate } from '../../src/prompts/route-template.ts';
import { parseSnapshot } from '../../src/prompts/snapshot.ts';
import type { RawSnapshot } from '../../src/prompts/types.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const snap = (files: Record<string, string>): RawSnapshot => ({
  commit: 'm',
  skipped: [],
  files: new Map(Object.entries(files).map(([k, v]) => [k, enc(v)])),
});
const known = new Set(['type', 'channel', 'category']);

/** The definition, as a regular expression: fine for the short inputs generated here. */
function byRegExp(source: string, path: string): boolean {
  const compiled = compileRouteTemplate(source, known);
  if (!compiled.ok) throw new Error(compiled.issue.message);
  const body = compiled.template.parts
    .map((p) => (typeof p === 'number' ? '[a-z0-9_-]{1,100}' : p.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`).test(path);
}

describe('route matching', () => {
  it('agrees with the regular expression a route stands for', () => {
    const piece = fc.oneof(fc.constantFrom('{type}', '{channel}', '{category}'), fc.constantFrom('a', '-', '_', 'x1', '/', 'b/', '.', 'default'));
    const source = fc.array(piece, { minLength: 1, maxLength: 6 }).map((parts) => `p/${parts.join('')}.md`);
    const name = fc.array(fc.constantFrom('a', 'b', '-', '_', '1', 'x', '/', '.', 'default'), { maxLength: 12 }).map((parts) => `p/${parts.join('')}.md`);
    fc.assert(
      fc.property(source, name, (src, path) => {
        const compiled = compileRouteTemplate(src, known);
        fc.pre(compiled.ok);
        if (!compiled.ok) return;
        expect(matchesTemplate(compiled.template, path, { remaining: 1e9 })).toBe(byRegExp(src, path));
      }),
      { numRuns: 2000 },
    );
  });

  it('a variable stands for 1 to 100 characters, as sanitized values are', () => {
    const compiled = compileRouteTemplate('p/{type}.md', known);
    if (!compiled.ok) throw new Error('compiles');
    const budget = { remaining: 1e9 };
    expect(matchesTemplate(compiled.template, `p/${'a'.repeat(100)}.md`, budget)).toBe(true);
    expect(matchesTemplate(compiled.template, `p/${'a'.repeat(101)}.md`, budget)).toBe(false);
    expect(matchesTemplate(compiled.template, 'p/.md', budget)).toBe(false);
    expect(matchesTemplate(compiled.template, 'p/A.md', budget)).toBe(false);
  });

  it('adjacent variables against long names are refused by the step budget at PATH:line, not by hanging', () => {
    // A backtracking regular expression needed minutes for each of these names.
    const files: Record<string, string> = {
      PATH: `version: v2\nroutes:\n  ok: p/default.md\n  bomb: "p/${'{type}'.repeat(12)}.md"\n`,
      'p/default.md': 'ok',
    };
    for (let k = 0; k < 1990; k++) files[`p/${'x'.repeat(150)}${k}!.md`] = 'x';
    const { repo, problems } = parseSnapshot(snap(files));
    expect(repo).toBeNull();
    expect(problems.map(formatProblem)).toEqual([
      "PATH:4:3: route `bomb` (`p/{type}{type}{type}{type}{type}{type}{type}{type}{type}{type}{type}{type}.md`) takes more than 50,000,000 steps to match against the repository's file names; put `/` or `.` between variables instead of nothing or letters",
    ]);
  });

  it('500 routes over 2,000 files stay within the budget', () => {
    const routes = Array.from({ length: 500 }, (_, k) => `  r${k}: "{category}/r${k}-{channel}-{type}.md"`).join('\n');
    const files: Record<string, string> = { PATH: `version: v2\nroutes:\n${routes}\n` };
    for (let k = 0; k < 1999; k++) files[`cat${k % 50}/r${k % 500}-chan-${k}-brief.md`] = 'x';
    const { repo, problems } = parseSnapshot(snap(files));
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(repo!.prompts.size).toBe(1999);
  });

  it('a PATH built to make megabytes of candidate paths per request yields at most 64 KiB of them, and does not keep them', () => {
    // 100 routes over 80 variables whose defaults are 100 characters: 35 MB of paths per request, unbounded.
    const names = Array.from({ length: 80 }, (_, k) => `v${k}`);
    const variables = names.map((n) => `  ${n}: ${'a'.repeat(100)}`).join('\n');
    const pattern = names.map((n) => `{${n}}`).join('/');
    const routes = Array.from({ length: 100 }, (_, k) => `  r${k}: "p${k}/${pattern}.md"`).join('\n');
    const { repo, problems } = parseSnapshot(
      snap({ PATH: `version: v2\nvariables:\n${variables}\nroutes:\n${routes}\n  last: p/default.md\n`, 'p/default.md': 'ok' }),
    );
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
    for (const channel of ['a', 'b', 'c']) {
      const candidates = routeCandidates(repo!, { channel_name: channel });
      expect(candidates.length).toBeGreaterThan(0);
      expect(candidates.reduce((n, p) => n + p.length, 0)).toBeLessThanOrEqual(MAX_CANDIDATE_CHARS);
      expect(pickPrompt(repo!, { channel_name: channel }).path).toBeNull();
    }
    expect(repo!.memo.size).toBe(0);
  });
});
