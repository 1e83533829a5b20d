/**
 * Answers for the Anthropic emulator in end-to-end runs, derived from what
 * the bot sent, as a model's would be: a summary cites every transcript line
 * it was given; a chat answer repeats the latest question, lists the
 * earlier ones the conversation carried (so memory shows in the answer) and
 * cites the channel messages sent with the question.
 */
import type { CompletionCall } from '../emulators/llm-faults.ts';

const TRANSCRIPT_LINE = /^\[(\d+)\] /gm;
const MEMBER_BLOCK = /<member name="([^"]*)">\n([\s\S]*?)\n<\/member>/g;

export function modelAnswer(call: CompletionCall): string {
  const user = call.messages.filter((m) => m.role === 'user').map((m) => m.content).join('\n');
  const refs = [...user.matchAll(TRANSCRIPT_LINE)].map((m) => Number(m[1]));
  const questions = [...user.matchAll(MEMBER_BLOCK)].map((m) => m[2] ?? '');
  if (questions.length === 0 && refs.length > 0) return `- ${refs.length} messages discussed: ${refs.map((r) => `[${r}]`).join('')}`;
  const last = questions.at(-1) ?? '';
  const earlier = questions.slice(0, -1);
  // Channel history sent with a question: cite every message of it.
  const cited = refs.length > 0 ? `\nFrom the channel: ${refs.map((r) => `[${r}]`).join('')}` : '';
  return `You asked: ${last}${earlier.length > 0 ? `\nEarlier you asked: ${earlier.join(' | ')}` : ''}${cited}`;
}
