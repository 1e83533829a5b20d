/**
 * Chat memory as turns the model can read: alternating member and assistant
 * turns, member text inside tags it cannot close, and the running summary of
 * older turns in front. Also the token arithmetic the bound is kept with.
 */
import { estimateTokens, type Turn } from '../llm/provider-spec/contract.ts';
import { asAttribute, asData } from '../summaries/instructions.ts';
import type { ChatMemory, ChatTurn } from '../summaries/types.ts';

export const EMPTY_MEMORY: ChatMemory = Object.freeze({ runningSummary: '', turns: [], tokens: 0 }) as ChatMemory;

export function memoryTokens(runningSummary: string, turns: readonly ChatTurn[]): number {
  return estimateTokens(runningSummary) + turns.reduce((n, t) => n + estimateTokens(t.content), 0);
}

function memberTurn(author: string, content: string): string {
  return `<member name="${asAttribute(author)}">\n${asData(content).trim()}\n</member>`;
}

function earlierBlock(summary: string): string {
  return `<earlier-conversation>\n${asData(summary).trim()}\n</earlier-conversation>`;
}

/**
 * Turns for a request: stored history then the new question. Providers want
 * user and assistant turns to alternate, starting with the user, so repeated
 * roles are merged and a leading assistant turn is dropped.
 */
export function requestTurns(memory: ChatMemory, author: string, question: string): Turn[] {
  const rendered: Turn[] = memory.turns.map((t) => ({
    role: t.role,
    content: t.role === 'user' ? memberTurn(t.author ?? 'member', t.content) : t.content,
  }));
  rendered.push({ role: 'user', content: memberTurn(author, question) });
  const turns: Turn[] = [];
  let questionMerged = false;
  for (const turn of rendered) {
    const previous = turns.at(-1);
    questionMerged = false;
    if (previous === undefined && turn.role === 'assistant') continue;
    if (previous !== undefined && previous.role === turn.role) {
      previous.content = `${previous.content}\n\n${turn.content}`;
      questionMerged = true;
    } else turns.push({ ...turn });
  }
  if (memory.runningSummary.trim() !== '' && turns[0] !== undefined) {
    turns[0].content = `${earlierBlock(memory.runningSummary)}\n\n${turns[0].content}`;
  }
  // The history is the same on the next question: mark its end as a cacheable prefix
  // (only when the question is a turn of its own, so the prefix holds no new text).
  const lastOfHistory = turns.at(-2);
  if (!questionMerged && lastOfHistory !== undefined) lastOfHistory.cache = true;
  return turns;
}

/**
 * How many of the oldest turns to fold so the rest takes at most `target`
 * tokens. Whole exchanges go (a member turn with the answers after it), and
 * the latest exchange always stays.
 */
export function turnsToFold(turns: readonly ChatTurn[], target: number): number {
  let remaining = memoryTokens('', turns);
  let cut = 0;
  const lastUser = findLastUser(turns);
  while (remaining > target && cut < lastUser) {
    // Advance to the start of the next exchange.
    let next = cut + 1;
    while (next < lastUser && turns[next]!.role !== 'user') next++;
    for (let i = cut; i < next; i++) remaining -= estimateTokens(turns[i]!.content);
    cut = next;
  }
  return cut;
}

function findLastUser(turns: readonly ChatTurn[]): number {
  for (let i = turns.length - 1; i >= 0; i--) if (turns[i]!.role === 'user') return i;
  return 0;
}

export function foldTurn(summary: string, turns: readonly ChatTurn[]): string {
  const lines = turns.map((t) => (t.role === 'user' ? memberTurn(t.author ?? 'member', t.content) : `<assistant>\n${asData(t.content).trim()}\n</assistant>`));
  return `${earlierBlock(summary)}\n<turns>\n${lines.join('\n')}\n</turns>`;
}
