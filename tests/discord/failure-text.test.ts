import { describe, expect, it } from 'vitest';
import { ChatError, SummarizeError, fromRouterFailure } from '../../src/summaries/errors.ts';
import { chatFailureText, summarizeFailureText } from '../../src/discord/output/failure-text.ts';
import { RouterError, RouterRefusal } from '../../src/llm/router/errors.ts';

const AT = Date.UTC(2030, 0, 1, 0, 0, 0);

describe('what members read when a summary or an answer fails', () => {
  it('names when a rate limit or a budget lifts, as a Discord timestamp', () => {
    const rate = fromRouterFailure(new RouterRefusal('rate', 'guild', AT + 400, 'Too many requests'));
    expect(summarizeFailureText(rate)).toBe(`This server is sending requests faster than allowed; try again <t:${AT / 1000 + 1}:R>.`);
    const budget = fromRouterFailure(new RouterRefusal('budget', 'guild', AT, 'used up'));
    expect(summarizeFailureText(budget)).toBe(`This server's daily language-model budget is used up; it resets <t:${AT / 1000}:R>.`);
    const off = fromRouterFailure(new RouterRefusal('budget', 'guild', null, 'zero'));
    expect(summarizeFailureText(off)).toMatch(/^Language-model calls are switched off for this server/);
  });

  it('says providers are unavailable, with when to retry and what was kept', () => {
    const open = fromRouterFailure(new RouterError('unavailable', 'all circuits open', { retryAt: AT }));
    expect(summarizeFailureText(open)).toBe(`The model providers are unavailable right now; try again <t:${AT / 1000}:R>.`);
    const partial = new SummarizeError('failed', 'map failed', { chunksDone: 3, chunksTotal: 8, cause: new RouterError('exhausted', 'x') });
    expect(summarizeFailureText(partial)).toBe(
      'The model providers are unavailable right now; please try again in a few minutes. (3 of 8 parts were done and are kept, so a retry is quicker)',
    );
    expect(summarizeFailureText(new SummarizeError('too_large', 'x'))).toMatch(/too large for the available models/);
    const refused = new SummarizeError('failed', 'refused', { cause: new RouterError('bad_request', 'no provider accepted the request') });
    expect(summarizeFailureText(refused)).toMatch(/^None of the configured model providers accepted this request/);
  });

  it('passes a question problem through and points chat overflows at /ask reset', () => {
    expect(chatFailureText(new ChatError('invalid_question', 'the question is empty'))).toBe("I can't take that question: the question is empty.");
    expect(chatFailureText(new ChatError('too_large', 'x'))).toContain('/ask reset');
    expect(chatFailureText(new ChatError('refused', 'x', { cause: new RouterRefusal('rate', 'user', AT, 'x') }))).toBe(
      `You're sending requests faster than allowed; try again <t:${AT / 1000}:R>.`,
    );
  });
});
