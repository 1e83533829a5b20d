/**
 * Finding action items without a language model: messages that read like a
 * commitment ("I'll…"), a request ("can you…"), a to-do or a deadline, with
 * an owner worked out from who spoke, who was named and who said "on it".
 */
import type { NumberedMessage } from './messages.ts';

interface Signal {
  pattern: RegExp;
  weight: number;
}

const SELF = /\b(?:i'll|i will|i'm going to|i am going to|i can take|i'm on it|let me (?!know))/;
const REQUEST = /\b(?:can|could|would) (?:you|someone|somebody|anyone)\b|\bplease\b/;
const FIRST_PERSON_NEED = /\bi (?:need to|have to|should|must|gotta)\b/;
const TEAM = /\b(?:we|let's)\b/;
const MARKER = /\b(?:todo|to-do|action items?|follow[- ]up)\b/;
const MONTH = '(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]{0,6}';
const DAY = '(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)';
const DEADLINE = new RegExp(
  `\\b(?:(?:by|before|due)\\s+(?:(?:this|next)\\s+)?(?:${DAY}|tomorrow|tonight|today|eod|eow|noon|end of (?:the )?(?:day|week|month|sprint)|\\d{1,2}(?::\\d{2})?\\s?(?:am|pm)|${MONTH}\\s+\\d{1,2}(?:st|nd|rd|th)?|\\d{1,2}(?:st|nd|rd|th)?\\s+${MONTH}|\\d{4}-\\d{2}-\\d{2})|deadline|asap)\\b`,
  'i',
);

const SIGNALS: readonly Signal[] = [
  { pattern: SELF, weight: 3 },
  { pattern: REQUEST, weight: 3 },
  { pattern: MARKER, weight: 3 },
  { pattern: /\b(?:need to|needs to|have to|has to|must|should)\b/, weight: 2 },
  { pattern: /\b(?:we'll|we will|let's)\b/, weight: 2 },
  { pattern: /\bwill\b/, weight: 1 },
  { pattern: DEADLINE, weight: 2 },
];

/** "on it", "will do": a reply that takes on the task before it. */
const TAKES_IT = /^(?:(?:sure|ok|okay|yes|yep)[,.!]?\s+)?(?:will do|on it|can do|i'll do it|i'll take it|i'll handle it|i can|i will|i've got it|i got it)\b/;
/** "sure", "ok": only an answer to a direct request ("can you…?") takes it on. */
const AGREES = /^(?:sure|ok|okay|yes|yep|yeah|sounds good|no problem|np|got it)\b/;
const MIN_SCORE = 2;
/** How many following messages may hold the "on it" that assigns a request. */
const ACK_WINDOW = 3;
/** …and how long after it. */
const ACK_WINDOW_MS = 30 * 60_000;

interface ActionItem {
  message: NumberedMessage;
  owner: string;
  /** Who asked or raised it, when that is not the owner. */
  raisedBy?: string;
  due?: string;
  score: number;
}

function normalise(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/[’‘]/g, "'");
}

function score(text: string): number {
  return SIGNALS.reduce((sum, signal) => sum + (signal.pattern.test(text) ? signal.weight : 0), 0);
}

function isAcknowledgement(text: string, answersRequest = true): boolean {
  const trimmed = text.trim();
  if (trimmed.split(/\s+/).length > 6) return false;
  return TAKES_IT.test(trimmed) || (answersRequest && AGREES.test(trimmed));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The participant (other than the author) named earliest in the text, if any. */
function namedParticipant(text: string, author: string, participants: readonly string[]): string | undefined {
  let best: { name: string; at: number } | undefined;
  for (const name of participants) {
    if (name === author || name.trim().length < 2) continue;
    const match = new RegExp(`(?:^|[^\\p{L}\\p{N}_])@?${escapeRegExp(normalise(name))}(?![\\p{L}\\p{N}_])`, 'u').exec(text);
    if (match && (!best || match.index < best.at)) best = { name, at: match.index };
  }
  return best?.name;
}

export function findActionItems(input: readonly NumberedMessage[], limit: number): ActionItem[] {
  const messages = [...input].sort((a, b) => a.ref - b.ref);
  const participants = [...new Set(messages.map((message) => message.author))].sort();
  const texts = messages.map((message) => normalise(message.content));
  const acknowledgementsUsed = new Set<number>();
  const items: ActionItem[] = [];

  messages.forEach((message, index) => {
    const text = texts[index] ?? '';
    // A bare "sure, on it" carries no task of its own; it assigns the one before it (below).
    if (acknowledgementsUsed.has(index) || isAcknowledgement(text)) return;
    const points = score(text);
    if (points < MIN_SCORE) return;
    const due = DEADLINE.exec(message.content.normalize('NFKC'))?.[0];
    let owner: string | undefined;
    if (SELF.test(text)) owner = message.author;
    owner ??= namedParticipant(text, message.author, participants);
    if (!owner && !FIRST_PERSON_NEED.test(text)) {
      const askedAt = Date.parse(message.timestamp);
      for (let next = index + 1; next <= Math.min(messages.length - 1, index + ACK_WINDOW); next++) {
        const reply = messages[next];
        if (!reply || Date.parse(reply.timestamp) - askedAt > ACK_WINDOW_MS) break;
        // A newer task in between is what a later "on it" answers.
        if (!isAcknowledgement(texts[next] ?? '') && score(texts[next] ?? '') >= MIN_SCORE) break;
        if (reply.author !== message.author && isAcknowledgement(texts[next] ?? '', REQUEST.test(text))) {
          owner = reply.author;
          acknowledgementsUsed.add(next);
          break;
        }
      }
    }
    if (!owner && (FIRST_PERSON_NEED.test(text) || MARKER.test(text))) owner = message.author;
    if (!owner && TEAM.test(text)) owner = 'team';
    owner ??= 'unassigned';
    items.push({
      message,
      owner,
      ...(owner === message.author ? {} : { raisedBy: message.author }),
      ...(due ? { due } : {}),
      score: points,
    });
  });

  if (items.length <= limit) return items;
  const kept = new Set(
    [...items]
      .sort((a, b) => b.score - a.score || a.message.ref - b.message.ref)
      .slice(0, limit)
      .map((item) => item.message.ref),
  );
  return items.filter((item) => kept.has(item.message.ref));
}
