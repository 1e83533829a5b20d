/**
 * What kind of message each one is, from its text alone: noise (system
 * notices, attachment-only and link-only posts), spam (mass mentions,
 * giveaway links, the same text posted again and again), small talk
 * (thanks, praise, greetings, laughter), decisions, questions, outcomes and
 * technical content. The summarizer never quotes noise, spam or small talk
 * as a key point.
 */
import type { NumberedMessage } from './messages.ts';

export interface MessageKind {
  noise: boolean;
  spam: boolean;
  social: boolean;
  decision: boolean;
  question: boolean;
  /** Something was done or resolved ("merged", "deleted and banned", "that worked"). */
  outcome: boolean;
  /** Code, errors, stack traces, versions, issue numbers, paths, links to code hosts. */
  technical: boolean;
  /** A reported problem: errors, crashes, "doesn't work". */
  problem: boolean;
}

const MARKER = /\[(?:image|video|audio|file|sticker|embed)(?::[^\]]*)?\]/g;
const URL = /https?:\/\/\S+/g;
const MASS_MENTION = /@(?:\u200b)?(?:everyone|here)\b/;
const GIVEAWAY = /\b(?:free\s+nitro|nitro\s+(?:giveaway|gift|drop)|giveaway|free\s+gift|claim\s+(?:your|now|it|free)|airdrop|steam\s+gift)\b/;
const DECISION =
  /\b(?:decision|decided|decide on|we(?:'ve| have)? agreed|agreed[:,]|let's go with|let us go with|we(?:'ll| will) go with|going with|(?:^|[.,!;]\s*)(?:ok|okay|fine|alright)?,?\s*go with (?:it|that|this|option)|settled on|final answer|conclusion|resolved:)/;
const QUESTION_WORD = /^(?:who|what|when|where|why|how|which|does|do|did|is|are|can|could|should|would|will|has|have|any(?:one|body)|is there)\b/;
const SOCIAL =
  /\b(?:thanks?|thank you|thx|ty|cheers|great (?:work|job|shot|meeting|stuff|discussion)|well done|impressive|amazing|awesome|congrat\w*|love (?:this|it|you)|gorgeous|beautiful|welcome|you (?:people|all|guys) are|one day i (?:will|want)|learned a lot|lol|lmao|haha\w*|rofl|nice)\b/;
const GREETING = /^(?:hi|hey|hello|morning|good morning|evening|gm|yo|o\/|welcome)\b/;
const REQUEST_OR_TASK = /\b(?:can|could|would) (?:you|someone|somebody|anyone)\b|\bplease\b|\b(?:by|before) (?:mon|tue|wed|thu|fri|sat|sun|tomorrow|tonight|eod)|\btodo\b/;
const OUTCOME = /\b(?:deleted|removed|banned|kicked|merged|shipped|released|deployed|fixed|resolved|that worked|works now|is up again|done|closed|reverted)\b/;
const TECHNICAL =
  /```|`[^`\n]+`|\b(?:error|exception|stack ?trace|traceback|null|undefined|segfault|panic|oom|timeout|api|sql|index|migration|regex|docker|container|build|deploy|commit|branch|pr|merge|release|version|config|env|parser|query|cache|heap|cpu|memory|latency|endpoint|schema|json|yaml|http|ci)\b|#\d{2,}|\bv?\d+\.\d+(?:\.\d+)?\b|[\w-]+\.(?:ts|js|py|go|rs|java|json|yaml|yml|toml|sql|md)\b|[a-z]\w*\([^)]*\)/;
const PROBLEM = /\b(?:error|exception|crash\w*|fail\w*|broken|bug|doesn't work|does not work|not working|can't|cannot|won't|stuck|leak\w*|oom|out of memory|exits?|killed|slow|timeout|regression|problem|issue)\b/;

function normalise(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/[’‘]/g, "'");
}

/** What is left when markers, links and mentions are taken out. */
function substance(text: string): string {
  return text.replace(MARKER, ' ').replace(URL, ' ').replace(/<[@#][!&]?\d+>/g, ' ').replace(/\s+/g, ' ').trim();
}

function wordCount(text: string): number {
  return text.split(/\s+/).filter((word) => /[\p{L}\p{N}]/u.test(word)).length;
}

/** The same author posting the same (non-trivial) text this many times in this window is a spam wave. */
const REPEATS = 3;
const REPEAT_WINDOW_MS = 15 * 60_000;

export function classify(messages: readonly NumberedMessage[]): MessageKind[] {
  const repeated = repeatedTexts(messages);
  return messages.map((message, index) => {
    const text = normalise(message.content);
    const left = substance(text);
    const noise = message.notice === true || left === '' || !/[\p{L}\p{N}]/u.test(left);
    const mentions = (text.match(/(?:^|\s)@\S/g) ?? []).length;
    const spam =
      !noise &&
      (MASS_MENTION.test(text) || mentions >= 5 || (GIVEAWAY.test(text) && /https?:\/\//.test(text)) || repeated.has(index));
    const words = wordCount(left);
    const social = !noise && !spam && words <= 20 && (SOCIAL.test(left) || (GREETING.test(left) && words <= 8)) && !REQUEST_OR_TASK.test(left) && !DECISION.test(left);
    const decision = !noise && !spam && words >= 5 && DECISION.test(left);
    const question = !noise && !spam && !social && words >= 4 && (/\?\s*(?:\S{0,3})?$/.test(left) || (QUESTION_WORD.test(left) && left.includes('?')));
    return {
      noise,
      spam,
      social,
      decision,
      question,
      outcome: !noise && !spam && OUTCOME.test(left),
      technical: !noise && !spam && TECHNICAL.test(text),
      problem: !noise && !spam && !social && PROBLEM.test(left),
    };
  });
}

function repeatedTexts(messages: readonly NumberedMessage[]): Set<number> {
  const byKey = new Map<string, number[]>();
  messages.forEach((message, index) => {
    const text = normalise(message.content).replace(/\s+/g, ' ').trim();
    if (text.length < 20) return;
    const key = `${message.author}\u0000${text}`;
    byKey.set(key, [...(byKey.get(key) ?? []), index]);
  });
  const flagged = new Set<number>();
  for (const indices of byKey.values()) {
    if (indices.length < REPEATS) continue;
    for (let i = 0; i + REPEATS - 1 < indices.length; i++) {
      const first = Date.parse(messages[indices[i]!]!.timestamp);
      const last = Date.parse(messages[indices[i + REPEATS - 1]!]!.timestamp);
      if (!(last - first <= REPEAT_WINDOW_MS)) continue;
      for (let k = i; k < i + REPEATS; k++) flagged.add(indices[k]!);
    }
  }
  return flagged;
}
