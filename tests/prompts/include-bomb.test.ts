import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PROMPT_LIMITS, type PromptLimits } from '../../src/prompts/limits.ts';
import type { BodySegment } from '../../src/prompts/parsed.ts';
import { formatProblem, sortProblems } from '../../src/prompts/problems.ts';
import { parseSnapshot } from '../../src/prompts/snapshot.ts';
import type { RawSnapshot } from '../../src/prompts/types.ts';
import { utf8Length } from '../../src/prompts/text.ts';
import { includeBombRepo, includeBombShapes, type RepoFiles } from './include-bombs.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const snap = (files: RepoFiles): RawSnapshot => ({
  commit: 'bomb',
  skipped: [],
  files: new Map(Object.entries(files).map(([k, v]) => [k, enc(v)])),
});
const textOf = (segments: readonly BodySegment[]) => segments.map((s) => (typeof s === 'string' ? s : `{${s.variable}}`)).join('');

describe('include bombs', () => {
  it('the reported attack is refused with file:line at every file of the chain, and the rest of the repo compiles as before', () => {
    const bomb = includeBombRepo();
    const { repo, problems } = parseSnapshot(snap(bomb));
    expect(sortProblems(problems).map(formatProblem)).toEqual([
      'a.md:1:1: includes `b.md`, which uses variables more than 2,000 times after includes (the limit for a prompt), so this file is skipped too',
      'b.md:1:1: includes `c.md`, which uses variables more than 2,000 times after includes (the limit for a prompt), so this file is skipped too',
      'c.md:1:1: includes `d.md`, which uses variables more than 2,000 times after includes (the limit for a prompt), so this file is skipped too',
      // e.md uses `{guild}` 2,000 times, the most a prompt may: the second copy takes d.md over, at the second marker.
      'd.md:1:6: uses variables more than 2,000 times once `e.md` is included here (the limit for a prompt), so it is skipped; shorten it or split it',
      'summaries/global.md:1:1: includes `a.md`, which uses variables more than 2,000 times after includes (the limit for a prompt), so this file is skipped too',
    ]);
    expect(problems.every((p) => p.code === 'prompt.too-large' && p.line !== undefined)).toBe(true);
    expect(repo).not.toBeNull();
    expect(repo!.skipped.get('summaries/global.md')).toBe('its include a.md uses variables more than 2,000 times after includes');

    // Without the bomb, the same repository compiles to the same prompts.
    const { 'summaries/global.md': _g, 'a.md': _a, 'b.md': _b, 'c.md': _c, 'd.md': _d, 'e.md': _e, ...rest } = bomb;
    const clean = parseSnapshot(snap({ ...rest, 'summaries/global.md': 'Global summary.\n' }));
    expect([...repo!.prompts.keys()]).toEqual(['prompts/default.md']);
    expect(repo!.prompts.get('prompts/default.md')).toEqual(clean.repo!.prompts.get('prompts/default.md'));
    expect(repo!.routing).toEqual(clean.repo!.routing);
  });

  it('every shape compiles within the limits or is refused with file:line, never by running out of memory', () => {
    const limits = DEFAULT_PROMPT_LIMITS;
    for (const shape of includeBombShapes()) {
      const { repo, problems } = parseSnapshot(snap(shape.files));
      expect(repo, shape.name).not.toBeNull();
      for (const p of problems.filter((x) => x.severity === 'error')) {
        expect(p.line, `${shape.name}: ${formatProblem(p)}`).toBeGreaterThanOrEqual(1);
        expect(['prompt.too-large', 'snapshot.prompts-too-large']).toContain(p.code);
      }
      let total = 0;
      for (const prompt of repo!.prompts.values()) {
        expect(prompt.bytes).toBeLessThanOrEqual(limits.promptBytes);
        expect(utf8Length(textOf(prompt.segments))).toBe(prompt.bytes);
        total += prompt.bytes;
      }
      expect(total).toBeLessThanOrEqual(limits.snapshotExpandedBytes);
      expect(repo!.prompts.has('prompts/default.md'), shape.name).toBe(true);
      if (shape.name !== 'many-small-files') expect(repo!.skipped.size, shape.name).toBeGreaterThan(0);
    }
  });

  it('2,000 prompts sharing a 49 KiB include stop at the snapshot budget, reported once where it is reached', () => {
    const shape = includeBombShapes().find((s) => s.name === 'many-prompts-sharing-50k')!;
    const { repo, problems } = parseSnapshot(snap(shape.files));
    const budget = problems.filter((p) => p.code === 'snapshot.prompts-too-large');
    expect(budget).toHaveLength(1);
    expect(formatProblem(budget[0]!)).toMatch(/^prompts\/t\d+\.md:1:1: would take the repository's prompts past 20 MiB /);
    const after = [...repo!.skipped.entries()].filter(([, reason]) => reason.startsWith('it would take the repository'));
    expect(after.length).toBeGreaterThan(1000);
    expect(repo!.prompts.size + after.length).toBe(1992);
  });

  it('a body of a million variables stops being scanned at the piece limit', () => {
    const { repo, problems } = parseSnapshot(
      snap({ PATH: 'version: v2\nroutes:\n  a: "p/{type}.md"\n', 'p/default.md': 'ok', 'p/brief.md': `---\ndescription: big\n---\n${'{guild}'.repeat(1_000_000)}` }),
    );
    expect(problems.map(formatProblem)).toEqual([
      'p/brief.md:4:1: has more than 50,000 pieces (literal text runs, variables, includes) as written (the limit for a prompt), so it is skipped; shorten it or split it',
    ]);
    expect(repo!.prompts.has('p/default.md')).toBe(true);
  });
});

/**
 * Include graphs: files p/f0 … p/f{n-1}, each a run of text, `{channel}`
 * and includes of later files (so no cycles, and no chain deeper than the
 * limit). Every file is routed, so every file is compiled as a prompt.
 */
type Item = { text: string } | { variable: true } | { include: number };

const item = (index: number, files: number): fc.Arbitrary<Item> => {
  const text = fc.oneof(fc.constantFrom('\n', 'ab\n', 'é', ' '), fc.string({ maxLength: 30 }).map((s) => s.replace(/[{}-]/g, '')));
  const options: Array<fc.Arbitrary<Item>> = [text.map((t) => ({ text: t })), fc.constant({ variable: true as const })];
  if (index + 1 < files) options.push(fc.integer({ min: index + 1, max: files - 1 }).map((k) => ({ include: k })));
  return fc.oneof(...options);
};

const graph = fc
  .integer({ min: 1, max: 6 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => fc.array(item(i, n), { maxLength: 12 }))));

const fileName = (k: number) => `p/f${k}.md`;

function render(items: Item[]): string {
  return items.map((x) => ('text' in x ? x.text : 'variable' in x ? '{channel}' : `{> p/f${x.include}}`)).join('');
}

/** What a file stands for, expanded naively (copying), or `over` once it passes `cap` bytes. */
function reference(graphItems: Item[][], k: number, cap: number): { text: string; pieces: number } | 'over' {
  let text = '';
  let pieces = 0;
  for (const x of graphItems[k]!) {
    if ('include' in x) {
      const child = reference(graphItems, x.include, cap);
      if (child === 'over') return 'over';
      text += child.text.endsWith('\n') ? child.text.slice(0, -1) : child.text;
      pieces += child.pieces + 1;
    } else {
      text += 'text' in x ? x.text : '{channel}';
      pieces += 1;
    }
    if (utf8Length(text) > cap) return 'over';
  }
  return { text, pieces };
}

/** Pieces as the compiler counts them: adjacent text items are one run. */
function normalize(items: Item[]): Item[] {
  const out: Item[] = [];
  for (const x of items) {
    const last = out[out.length - 1];
    if ('text' in x && x.text === '') continue;
    if ('text' in x && last !== undefined && 'text' in last) out[out.length - 1] = { text: last.text + x.text };
    else out.push(x);
  }
  return out;
}

describe('properties: include graphs', () => {
  it('compile either succeeds within the limits, exactly as naive expansion would, or reports the limit with file:line', () => {
    fc.assert(
      fc.property(
        graph,
        fc.record({
          promptBytes: fc.integer({ min: 20, max: 400 }),
          promptSegments: fc.integer({ min: 3, max: 60 }),
          promptVariables: fc.integer({ min: 0, max: 20 }),
          budget: fc.integer({ min: 50, max: 3000 }),
        }),
        (written, { promptBytes, promptSegments, promptVariables, budget }) => {
          const limits: Partial<PromptLimits> = { promptBytes, promptSegments, promptVariables, snapshotExpandedBytes: budget, unknownVariableWarnings: 1000 };
          const items = written.map(normalize);
          const files: RepoFiles = { PATH: 'version: v2\nroutes:\n  all: "p/{type}.md"\n' };
          items.forEach((x, k) => (files[fileName(k)] = render(x)));
          const { repo, problems } = parseSnapshot(snap(files), limits);
          const errors = problems.filter((p) => p.severity === 'error');
          for (const p of errors) {
            expect(['prompt.too-large', 'snapshot.prompts-too-large', 'snapshot.no-prompts']).toContain(p.code);
            if (p.code !== 'snapshot.no-prompts') expect(p.line).toBeGreaterThanOrEqual(1);
          }
          if (repo === null) {
            expect(errors.map((p) => p.code)).toContain('snapshot.no-prompts');
            return;
          }
          let total = 0;
          for (let k = 0; k < items.length; k++) {
            const path = fileName(k);
            const expected = reference(items, k, promptBytes + 10);
            const fits =
              expected !== 'over' &&
              utf8Length(expected.text) <= promptBytes &&
              expected.pieces <= promptSegments &&
              expected.text.split('{channel}').length - 1 <= promptVariables;
            const prompt = repo.prompts.get(path);
            if (prompt !== undefined) {
              expect(fits).toBe(true);
              expect(textOf(prompt.segments)).toBe((expected as { text: string }).text);
              expect(prompt.bytes).toBe(utf8Length(textOf(prompt.segments)));
              total += prompt.bytes;
            } else if (fits) {
              // A prompt that fits is passed over only once the snapshot's budget is spent.
              expect(repo.skipped.get(path)).toMatch(/^it would take the repository's prompts past/);
            } else {
              expect(repo.skipped.get(path)).toMatch(/more than/);
              expect(errors.some((p) => p.file === path && p.code === 'prompt.too-large' && p.line !== undefined)).toBe(true);
            }
          }
          expect(total).toBeLessThanOrEqual(budget);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('front matter across a snapshot', () => {
  it('is read up to 512 KiB in total; later files are skipped with file:line, and many keys or errors are summarized', () => {
    const files: RepoFiles = { PATH: 'version: v2\nroutes:\n  all: "p/{type}.md"\n', 'p/default.md': 'ok' };
    const keys = Array.from({ length: 700 }, (_, k) => `k${k}: v`).join('\n');
    for (let k = 0; k < 100; k++) files[`p/t${String(k).padStart(3, '0')}.md`] = `---\n${keys}\n---\nbody ${k}\n`;
    const { repo, problems } = parseSnapshot(snap(files));
    const perFile = problems.filter((p) => p.file === 'p/t000.md');
    expect(perFile).toHaveLength(21);
    expect(formatProblem(perFile[20]!)).toBe('p/t000.md:1:1: warning: has 680 more front matter keys that the bot does not read');
    const budget = problems.filter((p) => p.code === 'front-matter.repository-too-large');
    // 5.4 KiB of front matter a file: the 96th file passes 512 KiB.
    expect(budget.map((p) => `${p.file}:${p.line}`)[0]).toBe('p/t095.md:1');
    expect(budget).toHaveLength(5);
    expect(repo!.prompts.size).toBe(96);
    expect(repo!.skipped.get('p/t099.md')).toMatch(/front matter passed 512 KiB in total/);
  });

  it('a document of thousands of YAML errors reports the first 20', () => {
    const { problems } = parseSnapshot(
      snap({ PATH: 'version: v2\nroutes:\n  all: "p/{type}.md"\n', 'p/default.md': 'ok', 'p/bad.md': `---\n${': : : :\n'.repeat(1000)}---\nbody\n` }),
    );
    expect(problems.length).toBeGreaterThan(1);
    expect(problems.length).toBeLessThanOrEqual(41);
    expect(problems.every((p) => p.file === 'p/bad.md' && p.line !== undefined)).toBe(true);
  });
});
