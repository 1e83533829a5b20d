/**
 * Which refresh outcomes become admin notices: transitions only (a new
 * invalid head, a first denial, access back), each problem at file:line with
 * a link to that line at the failing commit.
 */
import { describe, expect, it } from 'vitest';
import { outcomeNotices } from '../../src/prompts/outcome-notices.ts';
import type { PromptConfig } from '../../src/prompts/prompt-config-store.ts';

const SHA = 'a'.repeat(40);

function config(lastSyncStatus: string | null, lastSyncCommit: string | null = null): PromptConfig {
  return {
    guildId: 'g1',
    repoUrl: 'https://github.com/acme/prompts',
    apiBaseUrl: 'https://api.github.com',
    owner: 'acme',
    repo: 'prompts',
    branch: 'main',
    enabled: true,
    hasToken: false,
    lastSyncStatus,
    lastSyncCommit,
  } as PromptConfig;
}

describe('outcomeNotices', () => {
  const invalid = {
    kind: 'invalid' as const,
    commit: SHA,
    serving: { commit: 'b'.repeat(40), ageMs: 0 },
    problems: [
      { severity: 'error' as const, code: 'x', file: 'prompts/a b.md', message: 'unknown variable `{who}`', line: 3, column: 7 },
      { severity: 'error' as const, code: 'y', file: 'PATH', message: 'repeats the key `main`', line: 4, column: 3 },
      { severity: 'error' as const, code: 'z', file: '.', message: 'no prompts at all' },
    ],
  };

  it('a new invalid head: the commit, what serves, and every problem sorted, linked to the file at that line', () => {
    const [notice] = outcomeNotices([config('ok', 'c'.repeat(40))], invalid);
    expect(notice).toMatchObject({ guildId: 'g1', kind: 'prompt-push-invalid', cause: `prompt-invalid:acme/prompts@${SHA}`, link: `https://github.com/acme/prompts/commit/${SHA}` });
    expect(notice!.title).toBe('Commit aaaaaaa of acme/prompts (main) failed validation');
    expect(notice!.lines).toEqual([
      `Commit: ${SHA}`,
      'Still serving the last valid commit, bbbbbbb.',
      '.: no prompts at all',
      `PATH:4:3: repeats the key \`main\` https://github.com/acme/prompts/blob/${SHA}/PATH#L4`,
      `prompts/a b.md:3:7: unknown variable \`{who}\` https://github.com/acme/prompts/blob/${SHA}/prompts/a%20b.md#L3`,
    ]);
    // The same invalid head again is no news.
    expect(outcomeNotices([config('invalid', SHA)], invalid)).toEqual([]);
  });

  it('unreachable once, back once; other failures (5xx) are no notice', () => {
    const denied = { kind: 'denied' as const, status: 404 as const, message: 'GitHub answered 404.', since: 0, kept: null };
    expect(outcomeNotices([config('ok')], denied)).toMatchObject([{ kind: 'prompt-repo-unreachable', cause: 'prompt-repo:acme/prompts:unreachable' }]);
    expect(outcomeNotices([config('denied')], denied)).toEqual([]);
    expect(outcomeNotices([config('denied')], { kind: 'unchanged', commit: SHA })).toMatchObject([{ kind: 'prompt-repo-back', lines: ['Serving commit aaaaaaa.'] }]);
    expect(outcomeNotices([config('ok')], { kind: 'unchanged', commit: SHA })).toEqual([]);
    const failed = { kind: 'failed' as const, reason: 'server' as const, status: 503, message: 'GitHub answered 503', serving: null, expired: null };
    expect(outcomeNotices([config('ok')], failed as never)).toEqual([]);
    expect(outcomeNotices([config('denied')], invalid).map((n) => n.kind)).toEqual(['prompt-repo-back', 'prompt-push-invalid']);
  });
});
