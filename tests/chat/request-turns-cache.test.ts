/** Chat memory marks the end of the stored history as a cacheable prefix. */
import { describe, expect, it } from 'vitest';
import { requestTurns } from '../../src/chat/chat-memory.ts';

type Memory = Parameters<typeof requestTurns>[0];
const memory = (turns: Array<{ role: 'user' | 'assistant'; content: string }>): Memory =>
  ({ runningSummary: '', turns: turns.map((t) => ({ ...t, author: 'ana' })), tokens: 0 }) as unknown as Memory;

describe('requestTurns cache marks', () => {
  it('marks the last history turn and leaves the new question unmarked', () => {
    const turns = requestTurns(memory([{ role: 'user', content: 'q1' }, { role: 'assistant', content: 'a1' }]), 'ana', 'q2');
    expect(turns.map((t) => t.cache === true)).toEqual([false, true, false]);
  });

  it('marks nothing without history', () => {
    expect(requestTurns(memory([]), 'ana', 'q1').some((t) => t.cache)).toBe(false);
  });

  it('marks nothing when the question merges into a trailing member turn (the prefix would hold the new text)', () => {
    const turns = requestTurns(memory([{ role: 'user', content: 'q1' }]), 'ana', 'q2');
    expect(turns).toHaveLength(1);
    expect(turns[0]!.cache).toBeUndefined();
  });
});
