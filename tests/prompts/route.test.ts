import { describe, expect, it } from 'vitest';
import type { ParsedRepo } from '../../src/prompts/parsed.ts';
import { computeCandidates, pickPrompt, routeCandidates } from '../../src/prompts/route.ts';
import { sanitizeSegment } from '../../src/prompts/sanitize.ts';
import { parseSnapshot } from '../../src/prompts/snapshot.ts';
import type { PromptContext } from '../../src/prompts/types.ts';

const enc = (s: string) => new TextEncoder().encode(s);
function repoOf(files: Record<string, string>, limits = {}): ParsedRepo {
  const { repo, problems } = parseSnapshot(
    { commit: 'abc', skipped: [], files: new Map(Object.entries(files).map(([k, v]) => [k, enc(v)])) },
    limits,
  );
  if (repo === null) throw new Error(`fixture failed: ${JSON.stringify(problems)}`);
  return repo;
}

const V1_PATH = `version: v1
routes:
  channel_specific: "prompts/{category}/{channel}.md"
  category_default: "prompts/{category}/default.md"
  global_default: "prompts/default.md"
`;

describe('sanitizeSegment', () => {
  it('lowercases and replaces everything outside [a-z0-9_-]', () => {
    expect(sanitizeSegment('Stand-Up Notes')).toBe('stand-up_notes');
    expect(sanitizeSegment('..')).toBe('__');
    expect(sanitizeSegment('../../etc/passwd')).toBe('______etc_passwd');
    expect(sanitizeSegment('a\\b/c')).toBe('a_b_c');
    expect(sanitizeSegment('．．')).toBe('__');
    expect(sanitizeSegment('%2e%2e')).toBe('_2e_2e');
    expect(sanitizeSegment('{guild_id}')).toBe('_guild_id_');
    expect(sanitizeSegment('Ünïcödé 🎉')).toBe('_n_c_d___');
  });

  it('keeps at most 100 characters and treats empty as missing', () => {
    expect(sanitizeSegment('x'.repeat(5000))).toBe('x'.repeat(100));
    expect(sanitizeSegment('')).toBeUndefined();
    expect(sanitizeSegment(undefined)).toBeUndefined();
  });
});

describe('routeCandidates', () => {
  const repo = repoOf({
    PATH: V1_PATH,
    'prompts/default.md': 'global',
    'prompts/meeting/default.md': 'meeting',
    'prompts/meeting/standup.md': 'standup',
  });

  it('substitutes, then defaults variables from the last backwards, then walks the chain without duplicates', () => {
    expect(routeCandidates(repo, { category: 'meeting', channel_name: 'standup' })).toEqual([
      'prompts/meeting/standup.md',
      'prompts/meeting/default.md',
      'prompts/default/default.md',
      'prompts/default.md',
    ]);
  });

  it('sanitizes values so that none adds a segment or climbs out', () => {
    const paths = routeCandidates(repo, { category: '../../secrets', channel_name: 'a/b\\c' });
    expect(paths[0]).toBe('prompts/______secrets/a_b_c.md');
    for (const p of paths) {
      expect(p.split('/').every((s) => s !== '..' && s !== '.' && s !== '')).toBe(true);
      expect(p.split('/')).toHaveLength(p === 'prompts/default.md' ? 2 : 3);
    }
  });

  it('uses `default` for missing values and the contract default for category', () => {
    expect(routeCandidates(repo, {})).toEqual([
      'prompts/discussion/default.md',
      'prompts/default/default.md',
      'prompts/default.md',
    ]);
  });

  it('prefers channel and guild names over ids, and treats summary_type as type', () => {
    const r = repoOf({ PATH: 'routes:\n  a: "{guild}/{channel}/{summary_type}.md"\n  z: z.md\n', 'z.md': 'z' });
    expect(routeCandidates(r, { guild_id: '123', channel_id: '456', type: 'brief' })[0]).toBe('123/456/brief.md');
    expect(routeCandidates(r, { guild_id: '1', guild_name: 'Acme', channel_id: '4', channel_name: 'ops', type: 'brief' })[0]).toBe(
      'acme/ops/brief.md',
    );
  });

  it('fills missing values from PATH variables, then from the contract defaults', () => {
    const r = repoOf({
      PATH: 'routes:\n  a: "p/{team}/{perspective}/{category}.md"\n  z: z.md\nvariables:\n  team: core\n',
      'z.md': 'z',
    });
    expect(routeCandidates(r, {})[0]).toBe('p/core/general/discussion.md');
    expect(routeCandidates(r, { perspective: 'Finance', category: 'meeting' })[0]).toBe('p/core/finance/meeting.md');
  });

  it('walks line patterns in order', () => {
    const r = repoOf({ PATH: '# first match wins\ncategories/{category}/{type}.md\n{type}/system.md\nsystem/default.md\n', 'system/default.md': 's' });
    expect(routeCandidates(r, { category: 'meeting', type: 'brief' })).toEqual([
      'categories/meeting/brief.md',
      'categories/meeting/default.md',
      'categories/default/default.md',
      'brief/system.md',
      'default/system.md',
      'system/default.md',
    ]);
  });

  it('follows an explicit fallback chain, skipping routes left out of it', () => {
    const r = repoOf({
      PATH: 'routes:\n  a: a/{type}.md\n  b: b.md\n  c: c.md\nfallback_chain: [c, a]\n',
      'c.md': 'c',
    });
    expect(routeCandidates(r, { type: 'brief' })).toEqual(['c.md', 'a/brief.md', 'a/default.md']);
  });

  it('applies `when` filters to sanitized values', () => {
    const r = repoOf({
      PATH: `version: v2
routes:
  standups:
    path: "standups/{channel}.md"
    when:
      category: [meeting, Stand Up]
      type: brief
  todo:
    path: "todo/{category}.md"
    when: { type: [action_items, tasks] }
  global: "default.md"
`,
      'default.md': 'd',
      'standups/default.md': 's',
      'todo/default.md': 't',
    });
    expect(routeCandidates(r, { category: 'meeting', type: 'brief', channel_name: 'daily' })).toEqual([
      'standups/daily.md',
      'standups/default.md',
      'default.md',
    ]);
    expect(routeCandidates(r, { category: 'STAND UP', type: 'Brief', channel_name: 'daily' })[0]).toBe('standups/daily.md');
    expect(routeCandidates(r, { category: 'meeting', type: 'detailed' })).toEqual(['default.md']);
    expect(routeCandidates(r, { category: 'chat', type: 'tasks' })).toEqual(['todo/chat.md', 'todo/default.md', 'default.md']);
    // A missing value matches only `default`.
    expect(routeCandidates(r, { category: 'meeting' })).toEqual(['default.md']);
  });

  it('memoizes per context, and the memo is exact and bounded', () => {
    const r = repoOf(
      { PATH: V1_PATH, 'prompts/default.md': 'g', 'prompts/meeting/default.md': 'm' },
      { routeMemoEntries: 3 },
    );
    const ctx: PromptContext = { category: 'meeting', channel_name: 'x' };
    const first = routeCandidates(r, ctx);
    expect(routeCandidates(r, { ...ctx })).toBe(first);
    // Fields routing does not read share the entry; fields it reads do not.
    expect(routeCandidates(r, { ...ctx, perspective: 'finance' })).toBe(first);
    expect(routeCandidates(r, { ...ctx, channel_name: 'y' })).not.toBe(first);
    // Values that only differ past the 100 characters sanitizing keeps route alike.
    const long = 'a'.repeat(100);
    expect(routeCandidates(r, { category: `${long}X` })).toEqual(routeCandidates(r, { category: `${long}Y` }));
    // Lengths keep keys unambiguous.
    expect(routeCandidates(r, { category: 'ab', channel_name: 'c' })).not.toEqual(routeCandidates(r, { category: 'a', channel_name: 'bc' }));
    for (let i = 0; i < 50; i++) {
      const c = { category: `c${i}`, channel_name: `n${i}` };
      expect(routeCandidates(r, c)).toEqual(computeCandidates(r.routing, c));
    }
    expect(r.memo.size).toBeLessThanOrEqual(3);
  });
});

describe('pickPrompt', () => {
  it('takes the first candidate that exists and records what it tried', () => {
    const repo = repoOf({ PATH: V1_PATH, 'prompts/default.md': 'g', 'prompts/meeting/default.md': 'm' });
    expect(pickPrompt(repo, { category: 'meeting', channel_name: 'standup' })).toEqual({
      path: 'prompts/meeting/default.md',
      tried: ['prompts/meeting/standup.md', 'prompts/meeting/default.md'],
      passedOver: [],
    });
    expect(pickPrompt(repo, { category: 'chat', channel_name: 'general' })).toEqual({
      path: 'prompts/default.md',
      tried: ['prompts/chat/general.md', 'prompts/chat/default.md', 'prompts/default/default.md', 'prompts/default.md'],
      passedOver: [],
    });
  });

  it('returns null with every path tried when nothing exists', () => {
    const repo = repoOf({ PATH: 'routes:\n  a: "p/{type}.md"\n  b: other.md\n', 'p/brief.md': 'b' });
    expect(pickPrompt(repo, { type: 'detailed' })).toEqual({
      path: null,
      tried: ['p/detailed.md', 'p/default.md', 'other.md'],
      passedOver: [],
    });
  });

  it('passes over files that were skipped at parse time, saying why', () => {
    const repo = repoOf({
      PATH: V1_PATH,
      'prompts/default.md': 'g',
      'prompts/meeting/standup.md': 'bad \0 byte',
    });
    const pick = pickPrompt(repo, { category: 'meeting', channel_name: 'standup' });
    expect(pick.path).toBe('prompts/default.md');
    expect(pick.passedOver).toEqual([
      { path: 'prompts/meeting/standup.md', reason: 'it contains a NUL byte; save the file as plain UTF-8 text' },
    ]);
  });

  it('returns the same frozen result on repeated calls', () => {
    const repo = repoOf({ PATH: V1_PATH, 'prompts/default.md': 'g' });
    const a = pickPrompt(repo, { category: 'x' });
    expect(pickPrompt(repo, { category: 'x' })).toBe(a);
    expect(Object.isFrozen(a.tried)).toBe(true);
  });
});
