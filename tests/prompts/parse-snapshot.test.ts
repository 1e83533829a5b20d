import { describe, expect, it } from 'vitest';
import { DEFAULT_PROMPT_LIMITS } from '../../src/prompts/limits.ts';
import { formatProblem } from '../../src/prompts/problems.ts';
import { renderPrompt } from '../../src/prompts/render.ts';
import { parseSnapshot } from '../../src/prompts/snapshot.ts';
import type { RawSnapshot } from '../../src/prompts/types.ts';

const enc = (s: string) => new TextEncoder().encode(s);
function snap(files: Record<string, string | Uint8Array>, skipped: RawSnapshot['skipped'] = []): RawSnapshot {
  return {
    commit: 'c0ffee',
    files: new Map(Object.entries(files).map(([k, v]) => [k, typeof v === 'string' ? enc(v) : v])),
    skipped,
  };
}
const V1 = 'version: v1\nroutes:\n  specific: "prompts/{category}/{type}.md"\n  global: "prompts/default.md"\n';
/** Reached by the `specific` route, so fixtures get no "matches no file" warning. */
const CHAT = { 'prompts/chat/brief.md': 'Chat.' };
const V2 = 'version: v2\nroutes:\n  specific: "prompts/{category}/{type}.md"\n  global: "prompts/default.md"\n';
const report = (raw: RawSnapshot, limits = {}) => parseSnapshot(raw, limits).problems.map(formatProblem);

describe('a valid snapshot', () => {
  it('compiles the prompts routes reach and lists the rest', () => {
    const { repo, problems } = parseSnapshot(
      snap({
        PATH: V1,
        'prompts/default.md': 'Summarize {channel}.',
        'prompts/meeting/brief.md': '\uFEFFBrief meeting summary.\r\nSecond line.\r\n',
        'README.md': 'Not a prompt {whatever}.',
        'docs/notes.md': 'Also not a prompt.',
        'logo.png': new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0xff, 0x00]),
      }),
    );
    expect(problems).toEqual([]);
    expect(repo!.commit).toBe('c0ffee');
    expect([...repo!.prompts.keys()].sort()).toEqual(['prompts/default.md', 'prompts/meeting/brief.md']);
    expect(repo!.unreferenced).toEqual(['README.md', 'docs/notes.md']);
    // BOM stripped, CRLF normalized.
    expect(repo!.prompts.get('prompts/meeting/brief.md')!.segments).toEqual(['Brief meeting summary.\nSecond line.\n']);
    expect(repo!.prompts.get('prompts/default.md')!.segments).toEqual(['Summarize ', { variable: 'channel' }, '.']);
  });

  it('reports files the source refused and ignores unsafe names', () => {
    const { repo, problems } = parseSnapshot(
      snap({ PATH: V1, ...CHAT, 'prompts/default.md': 'x', '../escape.md': 'x', '/abs.md': 'x' }, [
        { path: 'prompts/link.md', reason: 'it is a symbolic link' },
      ]),
    );
    expect(repo).not.toBeNull();
    expect(problems.map(formatProblem)).toEqual([
      'prompts/link.md: warning: was not read: it is a symbolic link',
      '.: warning: the file name `../escape.md` is not a safe repository path, so the file is ignored',
      '.: warning: the file name `/abs.md` is not a safe repository path, so the file is ignored',
    ]);
  });
});

describe('snapshot failures', () => {
  it('needs a PATH file', () => {
    const { repo, problems } = parseSnapshot(snap({ 'prompts/default.md': 'x' }));
    expect(repo).toBeNull();
    expect(problems.map(formatProblem)).toEqual([
      'PATH: is missing: the repository needs a PATH file at its root that routes requests to prompt files',
    ]);
  });

  it('enforces the file count, snapshot size and PATH size limits', () => {
    const files: Record<string, string> = { PATH: V1, 'prompts/default.md': 'x' };
    for (let i = 0; i < 5; i++) files[`f${i}.txt`] = 'x';
    expect(report(snap(files), { maxFiles: 6 })).toEqual([
      '.: the repository holds 7 files; at most 6 are allowed (move unrelated files elsewhere)',
    ]);
    expect(report(snap({ PATH: V1, 'prompts/default.md': 'x', 'big.bin': new Uint8Array(11 * 1024 * 1024) }))).toEqual([
      '.: the repository holds 11 MiB; at most 10 MiB are allowed (move large files elsewhere)',
    ]);
    const bigPath = `${V1}${'# padding\n'.repeat(7000)}`;
    expect(report(snap({ PATH: bigPath, 'prompts/default.md': 'x' }))).toEqual([
      'PATH: is 68.5 KiB; at most 64 KiB are allowed',
    ]);
    expect(parseSnapshot(snap({ PATH: bigPath, 'prompts/default.md': 'x' })).repo).toBeNull();
  });

  it.each([
    ['is not UTF-8', new Uint8Array([...enc('routes:\n  a: "caf'), 0xe9, ...enc('.md"\n')]), 'PATH:2:10: is not valid UTF-8 (byte 0xe9 at offset 17); save the file as UTF-8'],
    ['holds NUL', enc('routes:\n  a: x\0.md\n'), 'PATH:2:7: contains a NUL byte; save the file as plain UTF-8 text'],
  ])('rejects a PATH that %s, naming the place', (_name, path, expected) => {
    expect(report(snap({ PATH: path }))).toEqual([expected]);
  });

  const base = { PATH: V1, ...CHAT, 'prompts/default.md': 'x' };

  it('accepts a schema-version that agrees with PATH', () => {
    expect(parseSnapshot(snap({ ...base, 'schema-version': 'v1\r\n' })).problems).toEqual([]);
    expect(parseSnapshot(snap({ PATH: V2, ...CHAT, 'prompts/default.md': 'x', 'schema-version': 'v2' })).repo).not.toBeNull();
  });

  it.each([
    ['another version', { ...base, 'schema-version': 'v2\n' }, 'schema-version:1:1: says `v2` but PATH says version v1; make them agree'],
    ['v2 for line patterns', { PATH: 'prompts/default.md\n', 'prompts/default.md': 'x', 'schema-version': 'v2' }, 'schema-version:1:1: says `v2` but PATH holds line patterns, which are v1; make them agree'],
    ['something other than a version', { ...base, 'schema-version': 'version 3\n' }, 'schema-version:1:1: holds `version 3`; it must hold one line, `v1` or `v2`'],
  ])('refuses a schema-version that says %s', (_name, files, expected) => {
    const parsed = parseSnapshot(snap(files));
    expect(parsed.problems.map(formatProblem)).toEqual([expected]);
    expect(parsed.repo).toBeNull();
  });

  it('fails when no route reaches a usable prompt', () => {
    const { repo, problems } = parseSnapshot(snap({ PATH: V1, 'other/x.md': 'x' }));
    expect(repo).toBeNull();
    expect(problems.map(formatProblem)).toEqual([
      'PATH:3:3: warning: route `specific` (`prompts/{category}/{type}.md`) matches no file in the repository',
      'PATH:4:3: warning: route `global` (`prompts/default.md`) names a file that is not in the repository',
      "PATH: warning: no route always finds a file, so some requests will use the bot's bundled prompts; add a file such as `prompts/default.md`",
      '.: no prompt file that a route reaches can be used; add one such as `prompts/default/default.md`',
    ]);
  });
});

describe('prompt files', () => {
  it('skips a file that is not UTF-8 or holds NUL, keeping the rest', () => {
    const { repo, problems } = parseSnapshot(
      snap({
        PATH: V1,
        'prompts/default.md': 'ok',
        'prompts/meeting/brief.md': new Uint8Array([0x41, 0x0a, 0x42, 0xc3, 0x28]),
        'prompts/chat/brief.md': 'line one\nline\0two',
      }),
    );
    expect(problems.map(formatProblem)).toEqual([
      'prompts/chat/brief.md:2:5: contains a NUL byte; save the file as plain UTF-8 text',
      'prompts/meeting/brief.md:2:2: is not valid UTF-8 (byte 0xc3 at offset 3); save the file as UTF-8',
    ]);
    expect([...repo!.prompts.keys()]).toEqual(['prompts/default.md']);
    expect(repo!.skipped.get('prompts/chat/brief.md')).toMatch(/NUL/);
  });

  it('skips a prompt over 50 KiB after includes, with the reason', () => {
    const { repo, problems } = parseSnapshot(
      snap({
        PATH: V2,
        'prompts/default.md': 'ok',
        'prompts/meeting/brief.md': '{> parts/a}\n{> parts/a}\n',
        'parts/a.md': 'x'.repeat(30 * 1024),
      }),
    );
    expect(problems.map(formatProblem)).toEqual([
      'prompts/meeting/brief.md:2:1: is more than 50 KiB once `parts/a.md` is included here (the limit for a prompt), so it is skipped; shorten it or split it',
    ]);
    expect(repo!.skipped.get('prompts/meeting/brief.md')).toBe('it is more than 50 KiB after includes');
    expect(repo!.prompts.has('prompts/default.md')).toBe(true);
  });

  it('warns about unknown {names}, with a suggestion, but not about JSON or {{…}}', () => {
    const body = 'Hello {Guild} in {chanel}.\nJSON: {"type": "x"} {{mustache}} { spaced } {messages}\n{unknown_thing}';
    const { repo, problems } = parseSnapshot(snap({ PATH: V1, ...CHAT, 'prompts/default.md': body }));
    expect(problems.map(formatProblem)).toEqual([
      'prompts/default.md:1:7: warning: uses `{Guild}`, which is not a variable, so it is sent as written; did you mean `{guild}`?',
      'prompts/default.md:1:18: warning: uses `{chanel}`, which is not a variable, so it is sent as written; did you mean `{channel}`?',
      'prompts/default.md:3:1: warning: uses `{unknown_thing}`, which is not a variable, so it is sent as written',
    ]);
    expect(repo!.prompts.has('prompts/default.md')).toBe(true);
  });

  it('summarizes a flood of unknown {names}', () => {
    const body = Array.from({ length: 30 }, (_, i) => `{x${i}}`).join(' ');
    const problems = parseSnapshot(snap({ PATH: V1, ...CHAT, 'prompts/default.md': body })).problems;
    expect(problems).toHaveLength(DEFAULT_PROMPT_LIMITS.unknownVariableWarnings + 1);
    expect(formatProblem(problems.at(-1)!)).toBe(
      'prompts/default.md: warning: has 10 more `{names}` that are not variables; they are sent as written',
    );
  });

  it('knows the variables PATH declares', () => {
    const path = `${V1}variables:\n  team: core\n`;
    const { repo, problems } = parseSnapshot(snap({ PATH: path, ...CHAT, 'prompts/default.md': 'Team {team}.' }));
    expect(problems).toEqual([]);
    expect(renderPrompt(repo!.prompts.get('prompts/default.md')!, {}, repo!.routing.variables)).toBe('Team core.');
  });
});

describe('front matter (v2)', () => {
  it('reads model parameters, description and includes', () => {
    const text = '---\r\nmodel: claude-sonnet-4-6\r\nprovider: anthropic\r\ntemperature: 0.3\r\nmax_tokens: 900\r\ndescription: Meeting notes\r\nincludes:\r\n  - shared/rules.md\r\n---\r\nIntro\r\n{> shared/rules.md}\r\nEnd {type}\r\n';
    const { repo, problems } = parseSnapshot(
      snap({ PATH: V2, ...CHAT, 'prompts/default.md': text, 'shared/rules.md': '---\ntemperature: 1\n---\nRules for {channel}.\n' }),
    );
    expect(problems).toEqual([]);
    const prompt = repo!.prompts.get('prompts/default.md')!;
    expect(prompt.parameters).toEqual({ model: 'claude-sonnet-4-6', provider: 'anthropic', temperature: 0.3, max_tokens: 900 });
    expect(prompt.description).toBe('Meeting notes');
    expect(prompt.includes).toEqual(['shared/rules.md']);
    // The include's front matter and final newline are dropped.
    expect(prompt.segments).toEqual(['Intro\nRules for ', { variable: 'channel' }, '.\nEnd ', { variable: 'type' }, '\n']);
  });

  it('is plain text in a v1 repo, with a warning', () => {
    const text = '---\ntemperature: 0.3\n---\nBody {> x}\n';
    const { repo, problems } = parseSnapshot(snap({ PATH: V1, ...CHAT, 'prompts/default.md': text }));
    expect(problems.map(formatProblem)).toEqual([
      'prompts/default.md:1:1: warning: starts with front matter, which is read only when PATH says `version: v2`; here it is sent as part of the prompt',
    ]);
    expect(repo!.prompts.get('prompts/default.md')!.segments).toEqual([text]);
  });

  const bad: Array<[string, string, string]> = [
    ['an unclosed block', '---\ntemperature: 0.3\nBody\n', 'prompts/default.md:1:1: starts front matter with `---` but never closes it with another `---` line'],
    ['a temperature out of range', '---\ntemperature: 3\n---\nx', 'prompts/default.md:2:14: sets `temperature` outside 0 to 2; use a number such as `0.3`'],
    ['a fractional max_tokens', '---\nmax_tokens: 10.5\n---\nx', 'prompts/default.md:2:13: sets `max_tokens` to something that is not a whole number from 1 to 1000000'],
    ['a model with spaces', '---\nmodel: "my model"\n---\nx', 'prompts/default.md:2:8: sets `model` to something that is not a model name such as `claude-sonnet-4-6`'],
    ['a provider list', '---\nprovider: [a]\n---\nx', 'prompts/default.md:2:11: sets `provider` to something that is not a provider name such as `anthropic`'],
    ['a non-mapping', '---\n- a\n---\nx', 'prompts/default.md:2:1: has front matter that is not a mapping of settings such as `temperature: 0.3`'],
    ['duplicate keys', '---\ntemperature: 1\ntemperature: 2\n---\nx', 'prompts/default.md:3:1: repeats the key `temperature` in the same mapping; keep only one'],
    ['an include outside the repo', '---\nincludes: [../secret.md]\n---\nx', 'prompts/default.md:2:12: lists the include `../secret.md`, which uses `..`; paths must stay inside the repository'],
    ['a missing listed include', '---\nincludes: [shared/none.md]\n---\nx', 'prompts/default.md:2:12: lists the include `shared/none.md`, which is not in the repository'],
  ];
  it.each(bad)('skips the file for %s, with the location', (_name, text, expected) => {
    const { repo, problems } = parseSnapshot(snap({ PATH: V2, 'prompts/default.md': text, 'prompts/chat/brief.md': 'ok' }));
    expect(problems.map(formatProblem)).toContain(expected);
    expect(repo!.prompts.has('prompts/default.md')).toBe(false);
    expect(repo!.skipped.has('prompts/default.md')).toBe(true);
  });

  it('warns about unknown keys and listed includes without a marker', () => {
    const text = '---\ncolour: blue\nincludes: shared/a\n---\nno marker';
    const { repo, problems } = parseSnapshot(snap({ PATH: V2, ...CHAT, 'prompts/default.md': text, 'shared/a.md': 'A' }));
    expect(problems.map(formatProblem)).toEqual([
      'prompts/default.md:2:1: warning: has the front matter key `colour`, which the bot does not read; known keys are `model`, `provider`, `temperature`, `max_tokens`, `description`, `includes`',
      'prompts/default.md:3:11: warning: lists `shared/a.md` under `includes` but has no `{> shared/a.md}` marker, so it is not inserted',
    ]);
    expect(repo!.prompts.get('prompts/default.md')!.segments).toEqual(['no marker']);
  });
});

describe('includes', () => {
  it('expands nested includes up to 5 deep', () => {
    const files: Record<string, string> = { PATH: V2, ...CHAT, 'prompts/default.md': 'top {> i1}' };
    for (let i = 1; i <= 5; i++) files[`i${i}.md`] = i < 5 ? `${i} {> i${i + 1}}` : '5';
    const { repo, problems } = parseSnapshot(snap(files));
    expect(problems).toEqual([]);
    const prompt = repo!.prompts.get('prompts/default.md')!;
    expect(prompt.segments).toEqual(['top 1 2 3 4 5']);
    expect(prompt.includes).toEqual(['i1.md', 'i2.md', 'i3.md', 'i4.md', 'i5.md']);
  });

  it('refuses 6 deep, naming the chain and the marker', () => {
    const files: Record<string, string> = { PATH: V2, 'prompts/default.md': 'ok', 'prompts/chat/brief.md': 'top\n  {> i1}' };
    for (let i = 1; i <= 6; i++) files[`i${i}.md`] = i < 6 ? `{> i${i + 1}}` : 'end';
    const { repo, problems } = parseSnapshot(snap(files));
    expect(problems.map(formatProblem)).toEqual([
      'prompts/chat/brief.md:2:3: includes `i1.md`, and includes then nest more than 5 deep: prompts/chat/brief.md → i1.md → i2.md → i3.md → i4.md → i5.md → i6.md',
    ]);
    expect(repo!.skipped.get('prompts/chat/brief.md')).toBe('its includes nest more than 5 deep');
  });

  it('cuts a very long include chain at the limit, without deep recursion', () => {
    const files: Record<string, string> = { PATH: V2, ...CHAT, 'prompts/default.md': '{> c0}' };
    for (let i = 0; i < 1900; i++) files[`c${i}.md`] = i < 1899 ? `{> c${i + 1}}` : 'end';
    const { repo, problems } = parseSnapshot(snap(files));
    expect(problems.map(formatProblem)).toEqual([
      'prompts/default.md:1:1: includes `c0.md`, and includes then nest more than 5 deep: prompts/default.md → c0.md → c1.md → c2.md → c3.md → c4.md → c5.md',
      "PATH: warning: no route always finds a file, so some requests will use the bot's bundled prompts; add a file such as `prompts/default.md`",
    ]);
    expect(repo!.prompts.has('prompts/default.md')).toBe(false);
  });

  it('measures depth from each prompt: a file too deep below one prompt is fine below another', () => {
    const files: Record<string, string> = {
      PATH: V2,
      'prompts/default.md': '{> i1}',
      'prompts/chat/brief.md': '{> i5}',
    };
    for (let i = 1; i <= 6; i++) files[`i${i}.md`] = i < 6 ? `${i}{> i${i + 1}}` : '6';
    const { repo, problems } = parseSnapshot(snap(files));
    expect(problems.map((p) => p.code)).toEqual(['prompt.include-too-deep', 'path.no-catch-all']);
    expect(repo!.prompts.get('prompts/chat/brief.md')!.segments).toEqual(['56']);
  });

  it('reports a cycle with the file and line that closes it', () => {
    const { repo, problems } = parseSnapshot(
      snap({
        PATH: V2,
        'prompts/default.md': 'fine',
        'prompts/chat/brief.md': 'intro\n{> parts/a}',
        'parts/a.md': 'A\n\n{> parts/b}',
        'parts/b.md': 'B {> parts/a.md}',
      }),
    );
    expect(problems.map(formatProblem)).toEqual([
      'parts/b.md:1:3: includes `parts/a.md`, which closes an include cycle: parts/a.md → parts/b.md → parts/a.md',
      'parts/a.md:3:1: includes `parts/b.md`, which cannot be used because it is part of an include cycle (parts/a.md → parts/b.md → parts/a.md)',
      'prompts/chat/brief.md:2:1: includes `parts/a.md`, which cannot be used because its include parts/b.md cannot be used',
    ]);
    expect(repo!.prompts.has('prompts/chat/brief.md')).toBe(false);
    expect(repo!.prompts.has('prompts/default.md')).toBe(true);
  });

  it('reports a file including itself', () => {
    const problems = report(snap({ PATH: V2, 'prompts/default.md': 'ok', 'prompts/chat/brief.md': 'me {> prompts/chat/brief}' }));
    expect(problems).toEqual([
      'prompts/chat/brief.md:1:4: includes `prompts/chat/brief.md`, which closes an include cycle: prompts/chat/brief.md → prompts/chat/brief.md',
    ]);
  });

  it('reports missing, unsafe and malformed include markers', () => {
    const problems = report(
      snap({
        PATH: V2,
        'prompts/default.md': 'ok',
        'prompts/chat/brief.md': '{> nowhere}',
        'prompts/chat/detailed.md': 'x\n {> ../../etc/passwd}',
        'prompts/chat/comprehensive.md': 'x {> }',
      }),
    );
    expect(problems).toEqual([
      'prompts/chat/brief.md:1:1: includes `nowhere.md`, which is not in the repository',
      'prompts/chat/comprehensive.md:1:3: has `{>` that is not an include such as `{> shared/rules.md}`',
      'prompts/chat/detailed.md:2:2: includes `../../etc/passwd`, which uses `..`; paths must stay inside the repository',
    ]);
  });

  it('shares one included file between prompts, reporting its problems once', () => {
    const { repo, problems } = parseSnapshot(
      snap({
        PATH: V2,
        'prompts/default.md': '{> shared/x}',
        'prompts/chat/brief.md': '{> shared/x}!',
        'shared/x.md': 'shared {oops}',
      }),
    );
    expect(problems.map(formatProblem)).toEqual([
      'shared/x.md:1:8: warning: uses `{oops}`, which is not a variable, so it is sent as written',
    ]);
    expect(repo!.prompts.get('prompts/chat/brief.md')!.segments).toEqual(['shared {oops}!']);
  });
});

describe('an exhaustive parse (prompts validate)', () => {
  const broken = snap({
    PATH: 'version: v2\nroutes:\n  escape: "prompts/../{channel}.md"\n  by_type: "p/{type}.md"\n',
    'p/brief.md': '---\ntitle: unclosed\n',
  });

  it('serving stops at the PATH error; validating also checks the files the understood routes reach', () => {
    const served = parseSnapshot(broken);
    expect(served.repo).toBeNull();
    expect(served.problems.map((p) => p.code)).toEqual(['path.parent']);
    const validated = parseSnapshot(broken, {}, { exhaustive: true });
    expect(validated.repo).toBeNull();
    expect(validated.problems.map((p) => `${p.file}: ${p.code}`)).toEqual(['PATH: path.parent', 'p/brief.md: front-matter.unclosed']);
  });

  it('checks nothing it cannot place: a PATH with an invalid version reaches no prompt file', () => {
    const raw = snap({ PATH: 'version: v7\nroutes:\n  a: "p/{type}.md"\n', 'p/brief.md': '---\nunclosed\n' });
    expect(parseSnapshot(raw, {}, { exhaustive: true }).problems.map((p) => p.code)).toEqual(['path.version']);
  });
});
