import { describe, expect, it } from 'vitest';
import { CONNECTION_LOST_MESSAGE, isConnectionLost, retryOnConnectionLoss } from '../../src/db/connection-errors.ts';
import { summarizeFailureText } from '../../src/discord/output/failure-text.ts';
import { SummarizeError } from '../../src/summaries/errors.ts';

const terminated = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });

describe('connection-loss errors', () => {
  it.each(['57P01', '57P02', '57P03', '08006', '08003', 'ECONNRESET', 'ECONNREFUSED'])(
    'recognizes code %s (terminated backends, restarts, class 08, socket failures) as a lost connection',
    (code) => {
      expect(isConnectionLost(Object.assign(new Error('x'), { code }))).toBe(true);
    },
  );

  it('recognizes a lost connection by its message, also when wrapped, and nothing else', () => {
    expect(isConnectionLost(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionLost(new Error('wrapped', { cause: terminated }))).toBe(true);
    expect(isConnectionLost(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isConnectionLost(Object.assign(new Error('syntax'), { code: '42601' }))).toBe(false);
    expect(isConnectionLost('57P01')).toBe(false);
  });

  it('repeats an idempotent operation after a loss, never after another error', async () => {
    let calls = 0;
    const value = await retryOnConnectionLoss(async () => {
      calls += 1;
      if (calls < 3) throw terminated;
      return 'ok';
    }, { delaysMs: [1, 1] });
    expect([value, calls]).toEqual(['ok', 3]);

    let other = 0;
    await expect(
      retryOnConnectionLoss(async () => {
        other += 1;
        throw Object.assign(new Error('duplicate key'), { code: '23505' });
      }, { delaysMs: [1, 1] }),
    ).rejects.toThrow('duplicate key');
    expect(other).toBe(1);

    await expect(retryOnConnectionLoss(async () => Promise.reject(terminated), { delaysMs: [1] })).rejects.toBe(terminated);
  });

  it('a summary that failed on a lost connection tells the member to try again, not that the models are down', () => {
    const error = new SummarizeError('failed', 'saving the summary failed', { cause: terminated });
    expect(summarizeFailureText(error)).toBe(CONNECTION_LOST_MESSAGE);
  });
});
