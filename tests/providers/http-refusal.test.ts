/**
 * How a 4xx body is told apart: a model that is gone or a parameter this
 * provider refuses is worth another target; other refusals are not. The
 * bodies are the shapes the real APIs send.
 */
import { describe, expect, it } from 'vitest';
import { readErrorBody } from '../../plugins/openai-compatible/errors.ts';
import { kindForHttpStatus } from '../../src/llm/provider-spec/http-failure.ts';

describe('kindForHttpStatus with the server refusal', () => {
  it.each([
    ['Anthropic retired model', 404, { message: 'model: claude-3-opus-20240229', code: 'not_found_error' }, 'model_unavailable'],
    ['Anthropic temperature out of range', 400, { message: 'temperature: Input should be less than or equal to 1', code: 'invalid_request_error' }, 'unsupported_parameter'],
    ['Anthropic malformed turns', 400, { message: 'messages: roles must alternate', code: 'invalid_request_error' }, 'bad_request'],
    ['model deprecated (400)', 400, { message: 'The model `text-davinci-003` has been deprecated', code: 'model_deprecated' }, 'model_unavailable'],
  ] as const)('%s', (_name, status, refusal, kind) => {
    expect(kindForHttpStatus(status, false, refusal)).toBe(kind);
  });

  it('reads OpenAI bodies: model_not_found, unsupported_value on temperature, a plain invalid request', () => {
    const body = (message: string, code: string | null, param: string | null) =>
      JSON.stringify({ error: { message, type: 'invalid_request_error', param, code } });
    expect(kindForHttpStatus(404, false, readErrorBody(body('The model `gpt-x` does not exist', 'model_not_found', null)))).toBe('model_unavailable');
    const unsupported = body("Unsupported value: 'temperature' does not support 0.2 with this model.", 'unsupported_value', 'temperature');
    expect(kindForHttpStatus(400, false, readErrorBody(unsupported))).toBe('unsupported_parameter');
    const aboveMax = body("Invalid 'temperature': decimal above maximum value.", 'decimal_above_max_value', 'temperature');
    expect(kindForHttpStatus(400, false, readErrorBody(aboveMax))).toBe('unsupported_parameter');
    expect(kindForHttpStatus(400, false, readErrorBody(body("Invalid 'messages': empty array.", null, 'messages')))).toBe('bad_request');
  });

  it('keeps context-length and auth ahead of refusals', () => {
    expect(kindForHttpStatus(400, true, { message: 'prompt is too long', code: 'invalid_request_error' })).toBe('context_length');
    expect(kindForHttpStatus(403, false, { message: 'model: x', code: 'permission_error' })).toBe('auth');
  });
});
