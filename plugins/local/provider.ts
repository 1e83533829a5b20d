/**
 * The offline provider: no key, no network. Summaries are extractive (the
 * most representative messages, quoted with their reference numbers); chat
 * quotes the channel messages that best match the question.
 */
import type { GenerateRequest, GenerateResponse, ModelInfo, PluginProvider, StreamEvent } from '../../src/llm/provider-spec/contract.ts';
import { PROVIDER_SPECIFICATION_VERSION, ProviderError, estimateTokens } from '../../src/llm/provider-spec/contract.ts';
import { chatReply } from './chat-reply.ts';
import { reducePartials } from './reduce.ts';
import { summarizeMessages } from './summarize.ts';

const PROVIDER_NAME = 'local';

export const LOCAL_MODEL: ModelInfo = {
  id: 'local-extractive',
  // A window like a small hosted model's, so long conversations go through map-reduce as they would with one,
  // and every part of a long window is read and cited rather than ranked as one bag of messages.
  contextWindow: 32_768,
  maxOutputTokens: 8_192,
  streaming: true,
  inputPricePerMTok: 0,
  outputPricePerMTok: 0,
};

/** Number of deltas `stream()` splits its answer into. */
const STREAM_CHUNKS = 4;

function composeAnswer(request: GenerateRequest): string {
  const attachments = request.attachments;
  const task = attachments?.task ?? 'chat';
  if (task === 'chat') return chatReply(attachments);
  const messages = attachments?.messages ?? [];
  const partials = attachments?.partials ?? [];
  const options = { perspective: attachments?.perspective, maxTokens: request.maxTokens };
  if (partials.length > 0 && (task === 'summarize-reduce' || messages.length === 0)) {
    const knownRefs = messages.length > 0 ? new Set(messages.map((message) => message.ref)) : undefined;
    return reducePartials(partials, attachments?.summaryType, knownRefs, options);
  }
  // A part of a longer conversation keeps all its structure (decisions, topics, questions, action items), so the
  // reduce step can lay it out as the type asks; only action-item and moderation summaries stay as they are.
  const type = attachments?.summaryType;
  const partType = task === 'summarize-map' && type !== 'action_items' && type !== 'moderation' ? 'comprehensive' : type;
  return summarizeMessages(messages, partType, options);
}

/** Cuts whole lines to respect `maxTokens`; the caller learns through `finishReason: 'length'`. */
function fitToTokens(text: string, maxTokens: number): { text: string; truncated: boolean } {
  if (estimateTokens(text) <= maxTokens) return { text, truncated: false };
  const maxChars = Math.max(0, maxTokens * 4);
  const lines = text.split('\n');
  const kept: string[] = [];
  let length = 0;
  for (const line of lines) {
    const added = (kept.length > 0 ? 1 : 0) + line.length;
    if (length + added > maxChars) break;
    kept.push(line);
    length += added;
  }
  return { text: kept.length > 0 ? kept.join('\n') : text.slice(0, maxChars), truncated: true };
}

export function createLocalProvider(): PluginProvider {
  const answer = (request: GenerateRequest): GenerateResponse => {
    if (request.signal?.aborted) throw new ProviderError('aborted', 'the call was aborted', { provider: PROVIDER_NAME, model: request.model });
    if (request.model !== LOCAL_MODEL.id) {
      throw new ProviderError('bad_request', `model "${request.model}" is not offered by the local provider (it has "${LOCAL_MODEL.id}")`, {
        provider: PROVIDER_NAME,
        model: request.model,
      });
    }
    const { text, truncated } = fitToTokens(composeAnswer(request), request.maxTokens);
    const input = [request.system, ...request.turns.map((turn) => turn.content)].join('\n');
    return {
      text,
      finishReason: truncated ? 'length' : 'stop',
      usage: { inputTokens: estimateTokens(input), outputTokens: estimateTokens(text) },
      provider: PROVIDER_NAME,
      model: LOCAL_MODEL.id,
    };
  };

  return {
    specificationVersion: PROVIDER_SPECIFICATION_VERSION,
    name: PROVIDER_NAME,
    models: [LOCAL_MODEL],
    requiresKey: false,
    generate: async (request) => answer(request),
    async *stream(request): AsyncIterable<StreamEvent> {
      const response = answer(request);
      for (const delta of splitIntoChunks(response.text, STREAM_CHUNKS)) yield { type: 'text', delta };
      yield { type: 'finish', finishReason: response.finishReason, usage: response.usage, provider: response.provider, model: response.model };
    },
    health: async () => ({ ok: true, detail: 'offline extractive summarizer; needs no key or network' }),
  };
}

/** Splits at line breaks into at most `count` pieces that concatenate back to `text`. */
function splitIntoChunks(text: string, count: number): string[] {
  const lines = text.split(/(?<=\n)/);
  const perChunk = Math.max(1, Math.ceil(lines.length / count));
  const chunks: string[] = [];
  for (let index = 0; index < lines.length; index += perChunk) chunks.push(lines.slice(index, index + perChunk).join(''));
  return chunks.length > 0 ? chunks : [''];
}
