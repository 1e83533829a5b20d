/**
 * How the offline provider chats: it cannot write an answer, so it quotes
 * the channel messages that best match the question (the engine sends them
 * ranked, best first), each cited so the member can jump to it, and says
 * plainly that no language model is configured and how to set one up.
 */
import type { RequestAttachments } from '../../src/llm/provider-spec/contract.ts';
import { clean, cite, parseTime } from './render.ts';

/** Quotes in one answer. */
const MAX_QUOTES = 3;
const MAX_QUOTE_CHARS = 300;

const SETUP = [
  'To get written answers, the bot operator can:',
  '- set `ANTHROPIC_API_KEY` to use Claude;',
  '- set `OPENAI_API_KEY` for OpenAI, or `OPENAI_BASE_URL` (plus `OPENAI_API_KEY` when the server needs one) for an OpenAI-compatible server such as Ollama or vLLM;',
  '- or point `PLUGINS_CONFIG` at a plugins config file (see `plugins.example.yaml`) to choose providers and models.',
  'Then restart the bot or reload its plugins.',
].join('\n');

export const NO_MODEL_NOTE = '_Offline answer: no language model is configured for this bot, so here are the channel messages that best match your question._';

export const NOTHING_FOUND =
  "_Offline answer: no language model is configured for this bot, so I can only quote the channel's messages, and none of its recent messages match your question._";

export const NOTHING_SEARCHED = "_Offline answer: no language model is configured for this bot, and no channel history came with your question, so I can't answer it._";

export function chatReply(attachments: RequestAttachments | undefined): string {
  if (attachments?.messages === undefined) return `${NOTHING_SEARCHED}\n\n${SETUP}`;
  const best = attachments.messages.filter((message) => message.content.trim() !== '').slice(0, MAX_QUOTES);
  if (best.length === 0) return `${NOTHING_FOUND}\n\n${SETUP}`;
  const quotes = best.map((message) => {
    const when = parseTime(message.timestamp);
    const stamp = when === undefined ? '' : `, ${when.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
    return `> ${quoteText(message.content)}\n— ${clean(message.author, 64)}${stamp} ${cite([message.ref])}`;
  });
  return [NO_MODEL_NOTE, ...quotes, SETUP].join('\n\n');
}

/** One line of member text that cannot open a code block over the rest of the answer. */
function quoteText(text: string): string {
  return clean(text, MAX_QUOTE_CHARS).replaceAll('```', '`\u200b``');
}
