import { describe, expect, it } from 'vitest';
import { defaultApiBaseUrl, parseRepoUrl, repoKey } from '../../src/prompts/sources/repo-url.ts';
import { unsafePathReason } from '../../src/prompts/sources/safe-path.ts';

describe('parseRepoUrl', () => {
  it.each([
    ['acme/prompts', 'acme', 'prompts'],
    ['  acme/prompts  ', 'acme', 'prompts'],
    ['acme/prompts.git', 'acme', 'prompts'],
    ['acme/prompts/', 'acme', 'prompts'],
    ['https://github.com/acme/prompts', 'acme', 'prompts'],
    ['https://github.com/acme/prompts.git', 'acme', 'prompts'],
    ['https://github.com/acme/prompts/', 'acme', 'prompts'],
    ['https://github.com/acme/prompts.git/', 'acme', 'prompts'],
    ['https://www.github.com/Acme-Org/My.Prompts_v2', 'Acme-Org', 'My.Prompts_v2'],
    ['http://github.com/acme/prompts', 'acme', 'prompts'],
    ['https://github.com/acme/prompts?tab=readme-ov-file#top', 'acme', 'prompts'],
  ])('reads %j as a github.com repository', (input, owner, repo) => {
    expect(parseRepoUrl(input)).toEqual({ ok: true, host: 'github.com', origin: 'https://github.com', owner, repo });
  });

  it('keeps the host (and scheme, and port) of a GitHub Enterprise address', () => {
    expect(parseRepoUrl('http://ghe.internal:8080/platform/prompts.git')).toEqual({
      ok: true,
      host: 'ghe.internal:8080',
      origin: 'http://ghe.internal:8080',
      owner: 'platform',
      repo: 'prompts',
    });
    const secure = parseRepoUrl('https://GHE.example.com/team/prompts');
    expect(secure).toMatchObject({ ok: true, host: 'ghe.example.com', origin: 'https://ghe.example.com' });
  });

  it.each([
    ['', /empty/],
    ['acme', /owner and a name/],
    ['https://github.com/acme', /owner and a name/],
    ['https://github.com/acme/prompts/tree/main', /branch option/],
    ['https://github.com/acme/prompts/blob/main/PATH', /extra part/],
    ['git@github.com:acme/prompts.git', /SSH/],
    ['ssh://git@github.com/acme/prompts', /ssh:\/\//],
    ['ftp://github.com/acme/prompts', /ftp:\/\//],
    ['file:///etc/passwd', /file:\/\//],
    ['acme/prom pts', /spaces/],
    ['-acme/prompts', /not a valid owner/],
    ['acme--/prompts', /not a valid owner/],
    ['acme/..', /not a valid repository name/],
    ['acme/pro%2e%2e', /not a valid repository name/],
    ['acme/<script>', /not a valid repository name/],
    ['https://api.github.com/repos/acme/prompts', /API address/],
    ['javascript:alert(1)', /not a repository reference/],
    [`acme/${'x'.repeat(400)}`, /longer than/],
  ])('refuses %j with a clear message', (input, message) => {
    const result = parseRepoUrl(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
  });

  it('never repeats credentials embedded in the address', () => {
    const result = parseRepoUrl('https://x-access-token:ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/acme/prompts');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.message).toMatch(/user name or token/);
      expect(result.message).not.toContain('ghp_');
    }
    const pasted = parseRepoUrl('ghp_abcdefghijklmnopqrstuvwxyz0123456789AB/prompts');
    expect(pasted.ok).toBe(false);
    if (!pasted.ok) expect(pasted.message).not.toContain('ghp_');
  });
});

describe('repoKey and defaultApiBaseUrl', () => {
  it('identifies repositories case-insensitively, with the host only off github.com', () => {
    expect(repoKey({ owner: 'Acme', repo: 'Prompts' })).toBe('acme/prompts');
    expect(repoKey({ host: 'github.com', owner: 'acme', repo: 'prompts' })).toBe('acme/prompts');
    expect(repoKey({ host: 'GHE.example.com', owner: 'Acme', repo: 'Prompts' })).toBe('ghe.example.com/acme/prompts');
  });

  it('derives the REST root', () => {
    const github = parseRepoUrl('acme/prompts');
    const enterprise = parseRepoUrl('http://ghe.internal:8080/platform/prompts');
    if (!github.ok || !enterprise.ok) throw new Error('expected both to parse');
    expect(defaultApiBaseUrl(github)).toBe('https://api.github.com');
    expect(defaultApiBaseUrl(enterprise)).toBe('http://ghe.internal:8080/api/v3');
  });
});

describe('unsafePathReason', () => {
  it.each([
    ['prompts/default.md', undefined],
    ['a/b/c.md', undefined],
    ['', 'empty path'],
    ['/etc/passwd', 'absolute path'],
    ['../x', 'path contains ".."'],
    ['a/../../x', 'path contains ".."'],
    ['a/./x', 'path contains "."'],
    ['a//x', 'path has an empty segment'],
    ['a\\x', 'path contains a backslash'],
    ['a\u0000x', 'path contains a NUL byte'],
    ['a\rx', 'path contains a control character'],
    ['C:/x', 'path starts with a drive letter'],
  ])('%j → %s', (path, reason) => {
    expect(unsafePathReason(path)).toBe(reason);
  });
});
