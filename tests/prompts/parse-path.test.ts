import { describe, expect, it } from 'vitest';
import { resolveLimits } from '../../src/prompts/limits.ts';
import { parsePathFile } from '../../src/prompts/path-file.ts';
import { formatProblem } from '../../src/prompts/problems.ts';
import { normalizeNewlines } from '../../src/prompts/text.ts';

const limits = resolveLimits();
const parse = (text: string, overrides = {}) => parsePathFile(normalizeNewlines(text), resolveLimits(overrides));
const lines = (text: string, overrides = {}) => parse(text, overrides).problems.map(formatProblem);
const routesOf = (text: string) => {
  const { routing, problems } = parse(text);
  expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
  return routing!.routes.map((r) => [r.name, r.template.source]);
};

const CANONICAL = `version: v1
routes:
  channel_specific: "prompts/{category}/{channel}.md"
  category_default: "prompts/{category}/default.md"
  global_default:   "prompts/default.md"
fallback_chain:
  - channel_specific
  - category_default
  - global_default
variables: {}
config: {}
`;

describe('PATH in YAML v1', () => {
  it('reads the contract example', () => {
    const { routing, problems } = parse(CANONICAL);
    expect(problems).toEqual([]);
    expect(routing!.format).toBe('yaml-v1');
    expect(routing!.version).toBe('v1');
    expect(routing!.fallbackChain).toEqual(['channel_specific', 'category_default', 'global_default']);
    expect(routing!.chain.map((r) => r.name)).toEqual(routing!.fallbackChain);
    expect(routing!.keyVariables).toEqual(['category', 'channel']);
    expect(routing!.routes[0]!.location).toEqual({ file: 'PATH', line: 3, column: 3 });
  });

  it('reads a real-world file: indented as a whole, CRLF, trailing spaces, blank and whitespace-only lines, comments in mappings, version 1', () => {
    const text = [
      '    # Prompt routing   ',
      '    version: 1   ',
      '      ',
      '    routes:   ',
      '      # the most specific first   ',
      '      channel_specific: "prompts/{category}/{channel}.md"   ',
      '\t',
      '      category_default: prompts/{category}/default.md    # unquoted, with a comment   ',
      '  # a comment indented less than the document   ',
      '      global_default:   "prompts/default.md"   ',
      '    fallback_chain:   ',
      '      - channel_specific   ',
      '      - category_default   # why not   ',
      '      - global_default   ',
      '   ',
    ].join('\r\n');
    const { routing, problems } = parse(text);
    expect(problems).toEqual([]);
    const canonical = parse(CANONICAL).routing!;
    expect(routing!.format).toBe('yaml-v1');
    expect(routing!.routes.map((r) => [r.name, r.template.source])).toEqual(
      canonical.routes.map((r) => [r.name, r.template.source]),
    );
    expect(routing!.fallbackChain).toEqual(canonical.fallbackChain);
    // Positions are those of the file as written.
    expect(routing!.routes[0]!.location).toMatchObject({ line: 6, column: 7 });
  });

  it.each([
    ['v1', 'v1'],
    ['1', 'v1'],
    ['v2', 'v2'],
    ['2', 'v2'],
  ])('accepts `version: %s` as %s', (v, want) => {
    expect(parse(`version: ${v}\nroutes:\n  a: x.md\n`).routing!.version).toBe(want);
  });

  it('defaults the version to v1', () => {
    expect(parse('routes:\n  a: x.md\n').routing!.version).toBe('v1');
  });

  it('defaults the fallback chain to the routes in file order', () => {
    expect(parse('routes:\n  b: b.md\n  a: a.md\n').routing!.fallbackChain).toEqual(['b', 'a']);
  });

  it('drops a leading ./ from patterns', () => {
    expect(routesOf('routes:\n  a: ./prompts/default.md\n')).toEqual([['a', 'prompts/default.md']]);
  });

  it('takes defaults from `variables` and lets routes use declared names', () => {
    const { routing } = parse('routes:\n  a: "teams/{team}/{perspective}.md"\nvariables:\n  team: core\n  perspective: general\n');
    expect(routing!.variables).toEqual({ team: 'core', perspective: 'general' });
    expect(routing!.keyVariables).toEqual(['team', 'perspective']);
  });
});

describe('PATH as line patterns', () => {
  it('reads the reference format: comments, blank lines, CRLF, indentation', () => {
    const text = '# first match wins\r\n\r\ncategories/{category}/{type}.md\r\n  channels/{channel}/system.md  \r\n   \r\n{type}/system.md\r\n# end\r\nsystem/default.md\r\n';
    const { routing, problems } = parse(text);
    expect(problems).toEqual([]);
    expect(routing!.format).toBe('lines');
    expect(routing!.version).toBe('v1');
    expect(routing!.routes.map((r) => r.template.source)).toEqual([
      'categories/{category}/{type}.md',
      'channels/{channel}/system.md',
      '{type}/system.md',
      'system/default.md',
    ]);
    expect(routing!.routes[1]!.location).toEqual({ file: 'PATH', line: 4, column: 3 });
    expect(routing!.fallbackChain).toEqual(['line 3', 'line 4', 'line 6', 'line 8']);
  });

  it.each([
    ['rejects inline comments, naming the column of the #', 'a.md\n  prompts/default.md # fallback\n', 'PATH:2:22: has a comment after a pattern; put comments on their own line starting with `#`'],
    ['locates path errors inside the line', 'ok.md\n  prompts/{category}/../x.md\n', 'PATH:2:22: pattern `prompts/{category}/../x.md` uses `..`; paths must stay inside the repository'],
    ['needs at least one pattern', '# only comments\n\n', 'PATH:1:1: has no routes; add a pattern such as `prompts/{category}/default.md`'],
  ])('%s', (_name, text, expected) => {
    expect(lines(text)).toEqual([expected]);
  });

  it('warns about a repeated pattern', () => {
    const { problems, routing } = parse('a.md\nb.md\na.md\n');
    expect(routing!.routes).toHaveLength(2);
    expect(problems.map(formatProblem)).toEqual(['PATH:3:1: warning: repeats the pattern on line 1; the second copy is never used']);
  });

  it('enforces the route count limit', () => {
    expect(lines('a.md\nb.md\nc.md\n', { maxRoutes: 2 })).toEqual(['PATH:3:1: has more than 2 patterns; remove some']);
  });
});

describe('PATH in YAML v2', () => {
  it('reads `when` routes, sanitizing their values', () => {
    const text = `version: v2
routes:
  standup:
    path: "meetings/{channel}.md"
    when:
      category: [meeting, Stand Up]
      type: brief
  general: "default.md"
`;
    const { routing, problems } = parse(text);
    expect(problems).toEqual([]);
    expect(routing!.format).toBe('yaml-v2');
    const when = routing!.routes[0]!.when!;
    expect(when.map((c) => [c.variable, [...c.values]])).toEqual([
      ['category', ['meeting', 'stand_up']],
      ['type', ['brief']],
    ]);
    expect(routing!.keyVariables).toEqual(['channel', 'category', 'type']);
    expect(routing!.routes[1]!.when).toBeNull();
  });

  it.each([
    ['a route object in v1', 'version: v1\nroutes:\n  a:\n    path: x.md\n', 'PATH:3:3: route `a` is an object (`path`/`when`), which needs `version: v2`'],
    ['`when` on a name that is not a variable', 'version: v2\nroutes:\n  a:\n    path: x.md\n    when:\n      colour: red\n', 'PATH:6:7: route `a` has `when` on `colour`, which is not a variable'],
    ['`when` with no values', 'version: v2\nroutes:\n  a:\n    path: x.md\n    when:\n      type: []\n', 'PATH:6:7: route `a` has `when: type` with no values'],
    ['`when` with a value that is not text', 'version: v2\nroutes:\n  a:\n    path: x.md\n    when:\n      type: {x: 1}\n', 'PATH:6:13: route `a` has `when: type` with a value that is not plain text'],
    ['`when` that is not a mapping', 'version: v2\nroutes:\n  a:\n    path: x.md\n    when: brief\n', 'PATH:5:5: route `a` has a `when` that is not a mapping of variables to values'],
    ['an unknown route key', 'version: v2\nroutes:\n  a:\n    path: x.md\n    if: {}\n', 'PATH:5:5: route `a` has the key `if`; use `path` and `when`'],
  ])('reports %s where it is', (_name, text, expected) => {
    expect(lines(text)).toEqual([expected]);
  });
});

describe('PATH errors name the line and column', () => {
  const cases: Array<[string, string, string]> = [
    ['duplicate keys', 'routes:\n  a: x.md\n  a: y.md\n', 'PATH:3:3: repeats the key `a` in the same mapping; keep only one'],
    ['tab indentation', 'routes:\n\ta: x.md\n', 'PATH:2:1: is indented with a tab; YAML needs spaces'],
    ['a bad version', 'version: 3\nroutes:\n  a: x.md\n', 'PATH:1:10: sets `version` to `3`; use `v1` or `v2`'],
    ['`..`', 'version: v1\nroutes:\n  channel_specific: "prompts/../{channel}.md"\n', 'PATH:3:3: route `channel_specific` uses `..`; paths must stay inside the repository'],
    ['an absolute path', 'routes:\n  a: /etc/x.md\n', 'PATH:2:3: route `a` starts with `/`; write paths relative to the repository root'],
    ['a backslash', 'routes:\n  a: "..\\\\x.md"\n', 'PATH:2:3: route `a` uses `\\`; separate folders with `/`'],
    ['percent-encoding', 'routes:\n  a: "%2e%2e/x.md"\n', 'PATH:2:3: route `a` uses percent-encoding (`%`); write the path as plain text'],
    ['a look-alike dot', 'routes:\n  a: "\uFF0E\uFF0E/x.md"\n', 'PATH:2:3: route `a` uses `．` (U+FF0E), which looks like `.`; paths must stay inside the repository and use plain ASCII'],
    ['a `.` folder', 'routes:\n  a: "x/./y.md"\n', 'PATH:2:3: route `a` has a `.` folder; remove the `./`'],
    ['an empty folder', 'routes:\n  a: "x//y.md"\n', 'PATH:2:3: route `a` has an empty folder name (`//`)'],
    ['a space', 'routes:\n  a: "my prompts/x.md"\n', 'PATH:2:3: route `a` contains a space (U+0020); paths may use only letters, digits, `.`, `_`, `-` and `/`'],
    ['an unknown variable', 'routes:\n  a: "{team}/x.md"\n', 'PATH:2:3: route `a` uses `{team}`, which is not a variable; use one of {guild}, {guild_id}, {guild_name}, {channel}, {channel_id}, {channel_name}, {category}, {type}, {summary_type}, {perspective}, {message_count}, {date}, {time_range}, {locale}, {user}'],
    ['{messages} in a path', 'routes:\n  a: "{messages}.md"\n', 'PATH:2:3: route `a` uses `{messages}`, which only prompt bodies may use'],
    ['an open brace', 'routes:\n  a: "{category/x.md"\n', 'PATH:2:3: route `a` has a `{` that does not start a variable such as `{category}`'],
    ['a stray brace', 'routes:\n  a: "x}.md"\n', 'PATH:2:3: route `a` has a `}` without a matching `{`'],
    ['a non-markdown target', 'routes:\n  a: "x.txt"\n', 'PATH:2:3: route `a` does not end in `.md`; a route must name a prompt file'],
    ['an upper-case route name', 'routes:\n  Channel: x.md\n', 'PATH:2:3: has the route name `Channel`; route names are lowercase letters, digits and `_`, starting with a letter'],
    ['a route that is a list', 'routes:\n  a: [x.md]\n', 'PATH:2:3: route `a` needs a path in quotes'],
    ['empty routes', 'routes: {}\n', 'PATH:1:1: `routes` must be a non-empty mapping of route names to paths'],
    ['a fallback chain naming no route', 'routes:\n  a: x.md\nfallback_chain:\n  - a\n  - b\n', 'PATH:5:5: `fallback_chain` names `b`, which is not a route; routes are `a`'],
    ['an empty fallback chain', 'routes:\n  a: x.md\nfallback_chain: []\n', 'PATH:3:1: `fallback_chain` must be a non-empty list of route names'],
    ['a bad variable name', 'routes:\n  a: x.md\nvariables:\n  Team: x\n', 'PATH:4:3: declares the variable `Team`; names are lowercase letters, digits and `_`, and `messages` is reserved'],
    ['a variable without a value', 'routes:\n  a: x.md\nvariables:\n  team:\n', 'PATH:4:3: gives the variable `team` no plain value; write text or a number'],
    ['a top level that is a list', '- routes:\n    a: x.md\n', 'PATH:1:1: is not a YAML mapping with `routes`; see the bundled prompts/PATH for the format'],
    ['a list under a key', 'version: v1\n- routes\n', 'PATH:2:1: is not valid YAML here: Implicit keys need to be on a single line'],
    ['a scalar with routes', '"routes": 1\n', 'PATH:1:1: `routes` must be a non-empty mapping of route names to paths'],
    ['no routes key', 'version: v1\n', 'PATH:1:1: has no `routes` mapping; add one (see the bundled prompts/PATH)'],
    ['an undefined alias', 'routes:\n  a: *nothing\n', 'PATH:2:6: uses the alias `*nothing`, which names no anchor defined before it'],
    ['two documents', 'routes:\n  a: x.md\n---\nroutes: {}\n', 'PATH:3:1: holds more than one YAML document (a second `---`); keep one'],
  ];
  it.each(cases)('%s', (_name, text, expected) => {
    const problems = parse(text).problems;
    expect(problems.map(formatProblem)).toContain(expected);
    expect(parse(text).routing).toBeNull();
    for (const p of problems) expect(p.code).toMatch(/^[a-z-]+\.[a-z0-9-]+$/);
  });

  it('gives stable codes', () => {
    const code = (text: string) => parse(text).problems[0]!.code;
    expect(code('routes:\n  a: x.md\n  a: y.md\n')).toBe('yaml.duplicate-key');
    expect(code('routes:\n  a: "../x.md"\n')).toBe('path.parent');
    expect(code('routes:\n  a: "\uFF0E\uFF0E/x.md"\n')).toBe('path.lookalike');
    expect(code('routes:\n  a: "%2e%2e/x.md"\n')).toBe('path.percent-encoding');
    expect(code('a.md # x\n')).toBe('path.inline-comment');
  });

  it('enforces the pattern length and route count limits', () => {
    const long = `routes:\n  a: "${'x/'.repeat(260)}a.md"\n`;
    expect(lines(long)).toEqual(['PATH:2:3: route `a` is 524 characters long; at most 500 are allowed']);
    const many = `routes:\n${Array.from({ length: 4 }, (_, i) => `  r${i}: r${i}.md\n`).join('')}`;
    expect(lines(many, { maxRoutes: 3 })).toEqual(['PATH:1:1: has 4 routes; at most 3 are allowed']);
    expect(parse(many, { maxRoutes: 4 }).routing).not.toBeNull();
  });

  it('stops alias bombs, deep nesting and alias floods with a location', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
      'e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]',
      'routes:',
      '  a: x.md',
    ].join('\n');
    expect(lines(bomb)).toEqual(['PATH:5:28: uses more than 32 aliases (`*name`); write the values out instead']);
    const deep = `routes:\n  a: x.md\nconfig: ${'['.repeat(40)}${']'.repeat(40)}\n`;
    expect(lines(deep)).toEqual(['PATH:3:24: nests more than 16 levels deep; flatten it']);
    const deeper = `routes:\n  a: x.md\nconfig: ${'['.repeat(5000)}${']'.repeat(5000)}\n`;
    const problems = parse(deeper).problems;
    expect(problems[0]).toMatchObject({ severity: 'error', file: 'PATH', line: 3 });
  });

  it('warns about what it ignores', () => {
    const text = 'version: v1\nroutes:\n  a: a.md\n  b: b.md\nfallback_chain: [a, a]\nrotues: {}\nconfig: 1\n';
    const { routing, problems } = parse(text);
    expect(routing!.fallbackChain).toEqual(['a']);
    expect(problems.map(formatProblem)).toEqual([
      'PATH:6:1: warning: has the key `rotues`, which the bot does not read; expected `version`, `routes`, `fallback_chain`, `variables`, `config`',
      'PATH:7:1: warning: `config` should be a mapping; it is reserved and ignored for now',
      'PATH:5:21: warning: `fallback_chain` names `a` twice; the second is ignored',
      'PATH:4:3: warning: route `b` is not in `fallback_chain`, so it is never used',
    ]);
  });

  it('treats a file without YAML keys as line patterns, and one with them as YAML', () => {
    expect(parse('prompts/{category}/{channel}.md\nsystem/default.md\n').routing!.format).toBe('lines');
    // A typo in a YAML file gets a YAML error, not "line 1 is not a path".
    expect(lines('version: v1\nroutes:\n  a: x.md\n  a: y.md\n')[0]).toMatch(/repeats the key/);
    expect(limits.maxRoutes).toBe(500);
  });
});
