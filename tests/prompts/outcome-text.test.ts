import { describe, expect, it } from 'vitest';
import { age, describeOutcome, outcomeErrors } from '../../src/prompts/outcome-text.ts';
import type { RefreshOutcome } from '../../src/prompts/refresh-outcome.ts';

const GOOD = 'a'.repeat(40);
const BAD = 'b'.repeat(40);

describe('refresh outcome text', () => {
  it('names what GitHub answered and what serves, in one line', () => {
    const failed: RefreshOutcome = { kind: 'failed', reason: 'network', status: null, message: 'ECONNRESET', serving: { commit: GOOD, ageMs: 90 * 60_000 }, expired: null };
    expect(describeOutcome(failed, 'acme/prompts')).toBe('GitHub could not be reached; still serving acme/prompts@aaaaaaa from a cached copy 2 h old.');
    expect(describeOutcome({ ...failed, serving: null }, 'acme/prompts')).toBe('GitHub could not be reached; no copy of acme/prompts is held, so the bundled prompts serve.');
    expect(describeOutcome(failed, 'acme/prompts', { serving: false })).toBe('GitHub could not be reached for acme/prompts; try again later.');
  });

  it('an invalid commit names its first problem by file:line:col and the valid commit still serving', () => {
    const invalid: RefreshOutcome = {
      kind: 'invalid',
      commit: BAD,
      problems: [
        { severity: 'warning', code: 'w', file: 'prompts/a.md', line: 1, message: 'unused' },
        { severity: 'error', code: 'path.duplicate-key', file: 'PATH', line: 4, column: 3, message: 'repeats the key `a`' },
        { severity: 'error', code: 'x', file: 'PATH', line: 9, column: 1, message: 'another' },
      ],
      serving: { commit: GOOD, ageMs: 0 },
    };
    expect(describeOutcome(invalid, 'acme/prompts', { code: (t) => `\`${t}\`` })).toBe(
      'Commit `bbbbbbb` is invalid: PATH:4:3: repeats the key `a` (and 1 more); still serving the last valid commit `aaaaaaa`.',
    );
    expect(outcomeErrors(invalid, 'acme/prompts').slice(1)).toEqual(['PATH:4:3: repeats the key `a`', 'PATH:9:1: another']);
    expect(outcomeErrors({ kind: 'unchanged', commit: GOOD }, 'acme/prompts')).toEqual([]);
  });

  it('ages read as an admin would say them', () => {
    expect([40_000, 12 * 60_000, 2 * 3_600_000, 8 * 86_400_000].map((ageMs) => age({ ageMs }))).toEqual(['40 s', '12 min', '2 h', '8 days']);
  });
});
