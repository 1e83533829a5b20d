import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveLimits } from '../../src/prompts/limits.ts';
import type { BodySegment, ParsedRepo } from '../../src/prompts/parsed.ts';
import { parsePathFile } from '../../src/prompts/path-file.ts';
import { BODY_VARIABLES, compileStandaloneBody } from '../../src/prompts/prompt-body.ts';
import { renderPrompt } from '../../src/prompts/render.ts';
import { checkRepoPath } from '../../src/prompts/repo-path.ts';
import { pickPrompt, routeCandidates } from '../../src/prompts/route.ts';
import { sanitizeSegment } from '../../src/prompts/sanitize.ts';
import { parseSnapshot } from '../../src/prompts/snapshot.ts';
import type { Problem, PromptContext, RawSnapshot } from '../../src/prompts/types.ts';

const RUNS = { numRuns: 200 };
const enc = (s: string) => new TextEncoder().encode(s);
const snap = (files: Record<string, string | Uint8Array>): RawSnapshot => ({
  commit: 'p',
  skipped: [],
  files: new Map(Object.entries(files).map(([k, v]) => [k, typeof v === 'string' ? enc(v) : v])),
});

/** Every problem is located as precisely as the contract asks, with a stable code. */
function expectWellFormed(problems: readonly Problem[]): void {
  for (const p of problems) {
    expect(p.file.length).toBeGreaterThan(0);
    expect(p.code).toMatch(/^[a-z-]+\.[a-z0-9-]+$/);
    expect(p.message.length).toBeGreaterThan(0);
    if (p.line !== undefined) expect(Number.isInteger(p.line) && p.line >= 1).toBe(true);
    if (p.column !== undefined) expect(Number.isInteger(p.column) && p.column >= 1).toBe(true);
  }
}

/** A repository path that cannot leave the snapshot. */
function expectContained(path: string): void {
  expect(path.startsWith('/')).toBe(false);
  expect(path).not.toMatch(/[\\\0%]/);
  for (const segment of path.split('/')) {
    expect(segment).not.toBe('');
    expect(segment).not.toBe('.');
    expect(segment).not.toBe('..');
  }
}

const TRAVERSALS = [
  '..',
  '../..',
  '%2e%2e',
  '%2E%2E%2F',
  '.%2e',
  '..\\',
  '..\\..\\windows',
  '．．',
  '\u2025',
  '\uFE52\uFE52',
  '..%c0%af',
  '/etc',
  '//server/share',
  'C:\\x',
  '\0',
  '.',
  '',
];

const hostileText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.array(fc.constantFrom(...TRAVERSALS, '/', '{', '}', '{category}', '{{x}}', 'a', 'Z', ' ', '\n', '\u202e'), { maxLength: 12 }).map((a) => a.join('')),
);

const hostileContext: fc.Arbitrary<PromptContext> = fc.record(
  {
    guild_id: hostileText,
    guild_name: hostileText,
    channel_id: hostileText,
    channel_name: hostileText,
    category: hostileText,
    type: hostileText,
    perspective: hostileText,
    message_count: fc.oneof(fc.integer(), fc.constant(Number.NaN), fc.constant(Number.POSITIVE_INFINITY)),
    date: hostileText,
    time_range: hostileText,
    locale: hostileText,
    user: hostileText,
  },
  { requiredKeys: [] },
);

const REPO_FILES = {
  PATH: `version: v2
routes:
  by_guild: "guilds/{guild}/{channel}/{type}.md"
  scoped:
    path: "scoped/{category}/{perspective}.md"
    when: { type: [brief, detailed] }
  lines_like: "{category}.md"
  global: "default.md"
`,
  'default.md': 'global {guild}',
  'guilds/default/default/default.md': 'deep default',
  'scoped/meeting/default.md': 'scoped',
  'meeting.md': 'meeting',
};

describe('properties: routing with hostile context values', () => {
  const repo = parseSnapshot(snap(REPO_FILES)).repo as ParsedRepo;

  it('the fixture is valid', () => {
    expect(repo).not.toBeNull();
  });

  it('sanitizes to [a-z0-9_-]{1,100} or nothing', () => {
    fc.assert(
      fc.property(hostileText, (raw) => {
        const safe = sanitizeSegment(raw);
        if (raw === '') expect(safe).toBeUndefined();
        else expect(safe).toMatch(/^[a-z0-9_-]{1,100}$/);
      }),
      RUNS,
    );
  });

  it('every candidate stays inside the repo, keeps its template shape, and the pick is a snapshot file', () => {
    const shapes = new Set(repo.routing.chain.map((r) => r.template.source.split('/').length));
    fc.assert(
      fc.property(hostileContext, (ctx) => {
        const candidates = routeCandidates(repo, ctx);
        expect(new Set(candidates).size).toBe(candidates.length);
        for (const path of candidates) {
          expectContained(path);
          // A value never introduces a path segment.
          expect(shapes.has(path.split('/').length)).toBe(true);
          expect(path.endsWith('.md')).toBe(true);
        }
        const pick = pickPrompt(repo, ctx);
        expect(pick.path).not.toBeNull();
        expect(Object.keys(REPO_FILES)).toContain(pick.path);
        expect(pick.tried.at(-1)).toBe(pick.path);
      }),
      RUNS,
    );
  });

  it('renders hostile values literally, on one line, in one pass', () => {
    const prompt = repo.prompts.get('default.md')!;
    fc.assert(
      fc.property(hostileText, (name) => {
        const out = renderPrompt(prompt, { guild_name: name });
        expect(out.startsWith('global ')).toBe(true);
        expect(out).not.toMatch(/[\n\r\0]/);
        expect(out.length).toBeLessThan(7 + 202);
      }),
      RUNS,
    );
  });
});

describe('properties: parsing never throws and never escapes', () => {
  it('any PATH bytes and any prompt bytes give a repo or located problems', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.uint8Array({ maxLength: 200 }), (path, prompt) => {
        const { repo, problems } = parseSnapshot(snap({ PATH: path, 'default.md': prompt, 'a/b.md': prompt }));
        expectWellFormed(problems);
        if (repo !== null) {
          for (const key of repo.prompts.keys()) expectContained(key);
        }
      }),
      RUNS,
    );
  });

  const yamlToken = fc.constantFrom(
    'version: v1\n',
    'version: v2\n',
    'routes:\n',
    '  a: "x.md"\n',
    '  a: "x.md"\n',
    '  b: "{category}/{type}.md"\n',
    '  c:\n    path: "{channel}.md"\n    when: { type: [brief] }\n',
    'fallback_chain: [a, b, c, zz]\n',
    'variables: { team: core }\n',
    'x: &a [1, 2, 3]\n',
    'y: &b [*a, *a, *a, *a]\n',
    'z: [*b, *b, *b, *b, *b]\n',
    '  d: *a\n',
    '\t  e: x.md\n',
    '  f: "../x.md"\n',
    '  g: "%2e%2e/x.md"\n',
    '  h: "．．/x.md"\n',
    '  i: "/abs.md"\n',
    '  j: "a\\\\b.md"\n',
    '[[[[[[[[[[[[[[[[[[[[\n',
    '{ "routes": { "k": "k.md" } }\n',
    '# comment\n',
    '   \n',
    '\r\n',
    '---\n',
    'default.md\n',
    '{type}/x.md # inline\n',
    '\0',
  );

  it('YAML-shaped hostile PATH files (aliases, duplicates, depth, traversal) give located errors or safe routing', () => {
    fc.assert(
      fc.property(fc.array(yamlToken, { maxLength: 14 }), fc.integer({ min: 0, max: 6 }), hostileContext, (tokens, indent, ctx) => {
        const text = tokens.map((t) => ' '.repeat(indent) + t).join('');
        const { repo, problems } = parseSnapshot(
          snap({ PATH: text, 'x.md': 'x', 'k.md': 'k', 'default.md': 'd', 'meeting/brief.md': 'm' }),
        );
        expectWellFormed(problems);
        for (const p of problems) if (p.file === 'PATH' && p.severity === 'error' && p.code !== 'path.no-routes') expect(p.line).toBeDefined();
        if (repo !== null) {
          for (const route of repo.routing.routes) expect(checkRepoPath(route.template.source.replace(/[{}]/g, 'x'))).toBeNull();
          for (const path of routeCandidates(repo, ctx)) expectContained(path);
          const pick = pickPrompt(repo, ctx).path;
          if (pick !== null) expect(repo.prompts.has(pick)).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('a route with `..` in any spelling is an error naming the route', () => {
    fc.assert(
      fc.property(
        // At least one folder first: a leading `./` alone is tolerated as in real-world files.
        fc.array(fc.stringMatching(/^[a-z0-9_-]{1,8}$/), { minLength: 1, maxLength: 3 }),
        fc.constantFrom(...TRAVERSALS.filter((t) => t !== '')),
        fc.array(fc.stringMatching(/^[a-z0-9_-]{1,8}$/), { maxLength: 3 }),
        (before, evil, after) => {
          const pattern = [...before, evil, ...after, 'x.md'].join('/');
          const { routing, problems } = parsePathFile(`routes:\n  sneaky: ${JSON.stringify(pattern)}\n`, resolveLimits());
          expect(routing).toBeNull();
          expectWellFormed(problems);
          const error = problems.find((p) => p.severity === 'error')!;
          if (error.code.startsWith('path.')) {
            expect(error).toMatchObject({ file: 'PATH', line: 2, column: 3 });
            expect(error.message).toMatch(/^route `sneaky` /);
          } else {
            // A NUL or similar is already refused by YAML itself, with its own location.
            expect(error.line).toBeDefined();
          }
        },
      ),
      RUNS,
    );
  });

  it('alias bombs of any shape are refused with a location', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 2, max: 12 }), (levels, width) => {
        const lines = ['l0: &l0 [x, x]'];
        for (let i = 1; i <= levels; i++) lines.push(`l${i}: &l${i} [${Array(width).fill(`*l${i - 1}`).join(', ')}]`);
        lines.push('routes:', '  a: a.md');
        const { routing, problems } = parsePathFile(lines.join('\n'), resolveLimits());
        expectWellFormed(problems);
        if (levels * width > 32) {
          expect(routing).toBeNull();
          expect(problems[0]).toMatchObject({ code: 'yaml.too-many-aliases', file: 'PATH' });
          expect(problems[0]!.line).toBeGreaterThan(1);
        }
      }),
      RUNS,
    );
  });

  it('deep nesting of any kind is refused with a location, never a stack overflow', () => {
    fc.assert(
      fc.property(fc.integer({ min: 17, max: 5_000 }), fc.constantFrom('flow-seq', 'flow-map', 'block', 'compact-seq'), (depth, kind) => {
        let nested: string;
        // `- - - …` once killed the process (V8 compiling a regexp near the stack limit), not just threw.
        if (kind === 'compact-seq') nested = `config:\n  ${'- '.repeat(depth)}x\n`;
        else
        if (kind === 'flow-seq') nested = `config: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
        else if (kind === 'flow-map') nested = `config: ${'{a: '.repeat(depth)}1${'}'.repeat(depth)}\n`;
        else nested = `config:\n${Array.from({ length: Math.min(depth, 200) }, (_, i) => `${' '.repeat(i + 1)}k${i}:`).join('\n')} 1\n`;
        const text = `routes:\n  a: a.md\n${nested}`;
        const { repo, problems } = parseSnapshot(snap({ PATH: text, 'a.md': 'a' }), { pathFileBytes: 1024 * 1024 });
        expect(repo).toBeNull();
        expectWellFormed(problems);
        expect(problems.some((p) => p.file === 'PATH' && p.severity === 'error' && p.line !== undefined)).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it('duplicate keys anywhere are errors at the second key', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        (names, pick) => {
          const dup = names[pick % names.length]!;
          const all = [...names, dup];
          const text = `routes:\n${all.map((n) => `  ${n}: "${n}.md"`).join('\n')}\n`;
          const { routing, problems } = parsePathFile(text, resolveLimits());
          expect(routing).toBeNull();
          expect(problems[0]).toMatchObject({ code: 'yaml.duplicate-key', line: all.length + 1, column: 3 });
          expect(problems[0]!.message).toContain(`\`${dup}\``);
        },
      ),
      RUNS,
    );
  });

  it('bytes that are not UTF-8, or NUL, are located errors naming the file', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }),
        fc.constantFrom([0xff], [0xc0, 0xaf], [0xe0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90], [0x80], [0x00]),
        fc.string({ maxLength: 40 }),
        (before, bad, after) => {
          const bytes = new Uint8Array([...enc(before), ...bad, ...enc(after)]);
          const { repo, problems } = parseSnapshot(snap({ PATH: 'routes:\n  a: "{type}.md"\n  b: ok.md\n', 'ok.md': 'ok', 'brief.md': bytes }));
          expectWellFormed(problems);
          const p = problems.find((q) => q.file === 'brief.md')!;
          expect(p.code).toBe(bad[0] === 0 ? 'encoding.nul' : 'encoding.not-utf8');
          const lines = before.split('\n');
          expect(p.line).toBe(lines.length);
          expect(p.column).toBe([...lines.at(-1)!].length + 1);
          expect(repo!.prompts.has('brief.md')).toBe(false);
        },
      ),
      RUNS,
    );
  });

  it('10 MB files are refused by limits, not by running out of memory or time', () => {
    const big = new Uint8Array(10 * 1024 * 1024).fill(0x61);
    const asPath = parseSnapshot(snap({ PATH: big }));
    expect(asPath.repo).toBeNull();
    expect(asPath.problems.map((p) => p.code)).toEqual(['path.too-large']);
    const asPrompt = parseSnapshot(snap({ PATH: 'routes:\n  a: "{type}.md"\n  b: ok.md\n', 'ok.md': 'ok', 'brief.md': big }), {
      snapshotBytes: 11 * 1024 * 1024,
    });
    expect(asPrompt.repo!.skipped.get('brief.md')).toMatch(/^it is more than 50 KiB after includes/);
    const tooMuch = parseSnapshot(snap({ PATH: 'routes:\n  a: ok.md\n', 'ok.md': 'ok', 'big.bin': big, 'big2.bin': big }));
    expect(tooMuch.problems.map((p) => p.code)).toEqual(['snapshot.too-large']);
  });
});

describe('properties: prompt bodies', () => {
  const bodyText = fc
    .array(
      fc.oneof(
        fc.constantFrom('{', '}', '{{', '}}', '{>', '{> x}', '"', ':', '\n', ' ', 'x', '{x}', '{guild}', '{messages}', '{Guild}', '{ guild }', '{"a": {"b": 1}}', '\u00e9', '\r\n'),
        fc.string({ maxLength: 4 }),
      ),
      { maxLength: 40 },
    )
    .map((parts) => parts.join(''));

  const reconstruct = (segments: readonly BodySegment[]) =>
    segments.map((s) => (typeof s === 'string' ? s : `{${s.variable}}`)).join('');

  it('compiling only splits the text: segments put back together are the original', () => {
    fc.assert(
      fc.property(bodyText, (text) => {
        const { segments, problems } = compileStandaloneBody(text);
        expectWellFormed(problems);
        expect(reconstruct(segments)).toBe(text);
        for (const s of segments) if (typeof s !== 'string') expect(BODY_VARIABLES).toContain(s.variable);
      }),
      RUNS,
    );
  });

  it('rendering changes only known {variables}; all other braces stay as written', () => {
    fc.assert(
      fc.property(bodyText, hostileText, (text, value) => {
        const { segments } = compileStandaloneBody(text, new Set(['guild']));
        const rendered = renderPrompt({ segments }, { guild_name: value });
        const expected = segments
          .map((s) => (typeof s === 'string' ? s : renderPrompt({ segments: [s] }, { guild_name: value })))
          .join('');
        expect(rendered).toBe(expected);
        if (!segments.some((s) => typeof s !== 'string')) expect(rendered).toBe(text);
      }),
      RUNS,
    );
  });

  it('include markers in any prompt give a prompt or a located error, never a file outside the snapshot', () => {
    const target = fc.constantFrom('a', 'b', 'c', 'missing', '../a', '%2e%2e/a', '/a', 'a\\b', '．．/a', 'p/default');
    const file = fc.array(fc.oneof(target.map((t) => `{> ${t}}`), fc.constantFrom('text ', '{type} ', '\n')), { maxLength: 6 }).map((a) => a.join(''));
    fc.assert(
      fc.property(file, file, file, file, (top, a, b, c) => {
        const { repo, problems } = parseSnapshot(
          snap({ PATH: 'version: v2\nroutes:\n  a: "p/{type}.md"\n  z: z.md\n', 'z.md': 'z', 'p/default.md': top, 'a.md': a, 'b.md': b, 'c.md': c }),
        );
        expectWellFormed(problems);
        for (const p of problems) if (p.code.startsWith('prompt.include')) expect(p.line).toBeDefined();
        const prompt = repo!.prompts.get('p/default.md');
        if (prompt !== undefined) {
          for (const inc of prompt.includes) expect(['a.md', 'b.md', 'c.md', 'p/default.md']).toContain(inc);
          expect(reconstruct(prompt.segments)).not.toMatch(/\{>/);
        } else {
          expect(repo!.skipped.has('p/default.md')).toBe(true);
        }
      }),
      RUNS,
    );
  });
});
