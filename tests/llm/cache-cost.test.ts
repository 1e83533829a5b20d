/** Pricing of cached input and the script-aware token estimate. */
import { describe, expect, it } from 'vitest';
import { estimateTokens, type ModelInfo } from '../../src/llm/provider-spec/contract.ts';
import { cleanUsage, costOf } from '../../src/llm/router/usage.ts';

const sonnet: ModelInfo = {
  id: 'claude-sonnet-4-6',
  contextWindow: 200_000,
  maxOutputTokens: 64_000,
  streaming: true,
  inputPricePerMTok: 3,
  outputPricePerMTok: 15,
};

describe('costOf with prompt caching', () => {
  it('prices cache reads at 0.1× and cache writes at 1.25× the input price by default', () => {
    const cost = costOf(sonnet, { inputTokens: 1_000_000, outputTokens: 0, cacheReadTokens: 1_000_000, cacheWriteTokens: 1_000_000 });
    expect(cost).toBeCloseTo(3 + 0.3 + 3.75, 9);
  });

  it('uses the cached prices a model declares (OpenAI: half the input price)', () => {
    const mini: ModelInfo = { ...sonnet, id: 'gpt-4o-mini', inputPricePerMTok: 0.15, outputPricePerMTok: 0.6, cacheReadPricePerMTok: 0.075 };
    expect(costOf(mini, { inputTokens: 0, outputTokens: 0, cacheReadTokens: 2_000_000 })).toBeCloseTo(0.15, 9);
  });

  it('is unchanged for calls without cache tokens', () => {
    expect(costOf(sonnet, { inputTokens: 2_000, outputTokens: 1_000 })).toBeCloseTo((2_000 * 3 + 1_000 * 15) / 1e6, 12);
  });
});

describe('cleanUsage', () => {
  it('keeps sane cache counts and drops hostile ones', () => {
    const fallback = { inputTokens: 7, outputTokens: 3 };
    expect(cleanUsage({ inputTokens: 10, outputTokens: 2, cacheReadTokens: 500, cacheWriteTokens: 0 }, fallback)).toEqual({
      inputTokens: 10,
      outputTokens: 2,
      cacheReadTokens: 500,
    });
    expect(
      cleanUsage({ inputTokens: 10, outputTokens: 2, cacheReadTokens: Number.NaN, cacheWriteTokens: -5 }, fallback),
    ).toEqual({ inputTokens: 10, outputTokens: 2 });
  });
});

describe('estimateTokens', () => {
  it('counts Latin text at about four characters a token', () => {
    expect(estimateTokens('a'.repeat(400))).toBe(100);
  });

  it('counts each Chinese, Japanese or Korean character as a token', () => {
    expect(estimateTokens('我们明天发布新版本')).toBe(9);
    expect(estimateTokens('リリースは明日です')).toBe(9);
    expect(estimateTokens('내일 출시합니다')).toBe(7 + 1);
  });

  it('counts emoji as more than one token and mixes scripts', () => {
    expect(estimateTokens('🚀🚀')).toBe(4);
    expect(estimateTokens('ship 发布')).toBe(2 + 2);
  });
});
