/**
 * How well each message matches a question: Okapi BM25 over normalised
 * words. Written here rather than taken from a search library because one
 * question scores at most a few thousand short messages once, with no index
 * to keep; what matters is the word normalisation (case, accents, Discord
 * markup, plural and -ing/-ed endings), which is a few lines either way.
 */

const STOP_WORDS = new Set(
  `a about after all also am an and any are as at be been but by can could did do does doing for from had has have he her his how
  i if in into is it its just me my no not now of on or our out over she so some than that the their them then there these they
  this those to too up us was we were what when where which while who whom why will with would you your yours
  anything something thing things tell say said know let lets please hey hi ok okay`
    .split(/\s+/)
    .filter(Boolean),
);

// Mentions, emoji and links carry no words a question would share.
const MARKUP = /https?:\/\/\S+|<(?:@[!&]?|#|a?:\w{1,32}:)\d{1,20}>/g;
const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu;
const ASCII_WORD = /[a-z0-9]+(?:'[a-z]+)?/g;
const MAX_WORD_CHARS = 40;
/**
 * Characters of a message that are scored. Scoring runs on the event loop
 * for every guild; a channel of 4,000-character messages must not hold it
 * up, and a long message shows what it is about early on.
 */
export const MAX_SCORED_CHARS = 1_000;
/** Distinct question terms scored (a question is at most 4,000 characters). */
export const MAX_QUERY_TERMS = 64;
const NON_ASCII = /[^\x00-\x7f]/;

/** A word reduced to the form that matches its plural, its -ing/-ed forms and some -sion nouns. */
export function stemWord(word: string): string {
  let w = word;
  if (w.endsWith("'s")) w = w.slice(0, -2);
  if (w.length > 4 && w.endsWith('ies')) w = `${w.slice(0, -3)}y`;
  else if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is')) w = w.slice(0, -1);
  // "decision" meets "decide", "conclusion" "conclude", "extension" "extend".
  if (w.length > 6 && /[iu]sion$/.test(w)) w = `${w.slice(0, -4)}d`;
  else if (w.length > 6 && w.endsWith('ension')) w = `${w.slice(0, -4)}d`;
  else if (w.length > 5 && w.endsWith('ing')) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith('ed')) w = w.slice(0, -2);
  if (w.length > 3 && w.endsWith('e')) w = w.slice(0, -1);
  return w;
}

/** The searchable terms of a text: lower case, accents removed, stop words and markup left out. */
export function terms(text: string): string[] {
  // Most chat is plain ASCII, which needs no Unicode normalisation.
  const ascii = !NON_ASCII.test(text);
  const folded = ascii ? text : text.normalize('NFKD').replace(/\p{M}/gu, '');
  const plain = folded
    .toLowerCase()
    .replace(/’/g, "'")
    .replace(MARKUP, ' ');
  const out: string[] = [];
  for (const [word] of plain.matchAll(ascii ? ASCII_WORD : WORD)) {
    if (word.length > MAX_WORD_CHARS || STOP_WORDS.has(word) || (word.length < 2 && !/\d/.test(word))) continue;
    out.push(stemWord(word));
  }
  return out;
}

export interface Bm25Options {
  /** Term-frequency saturation (default 1.2). */
  k1?: number;
  /** Length normalisation (default 0.75). */
  b?: number;
}

/**
 * The BM25 score of each document for the query, in the documents' order;
 * 0 where no query term occurs. Each distinct query term counts once.
 */
export function bm25Scores(query: string, documents: readonly string[], options: Bm25Options = {}): number[] {
  const k1 = options.k1 ?? 1.2;
  const b = options.b ?? 0.75;
  const wanted = new Set<string>();
  for (const term of terms(query)) if (wanted.size < MAX_QUERY_TERMS) wanted.add(term);
  const scores = new Array<number>(documents.length).fill(0);
  if (wanted.size === 0 || documents.length === 0) return scores;

  const counts: Array<Map<string, number>> = [];
  const lengths: number[] = [];
  const documentFrequency = new Map<string, number>();
  for (const document of documents) {
    const words = terms(document.length > MAX_SCORED_CHARS ? document.slice(0, MAX_SCORED_CHARS) : document);
    lengths.push(words.length);
    const inDocument = new Map<string, number>();
    for (const word of words) if (wanted.has(word)) inDocument.set(word, (inDocument.get(word) ?? 0) + 1);
    for (const word of inDocument.keys()) documentFrequency.set(word, (documentFrequency.get(word) ?? 0) + 1);
    counts.push(inDocument);
  }
  const n = documents.length;
  const averageLength = Math.max(1, lengths.reduce((sum, length) => sum + length, 0) / n);
  // The "plus one" form of IDF: never negative, so a word in most messages still counts a little.
  const idf = new Map([...documentFrequency].map(([word, df]) => [word, Math.log(1 + (n - df + 0.5) / (df + 0.5))]));
  counts.forEach((inDocument, i) => {
    let score = 0;
    for (const [word, tf] of inDocument) {
      score += (idf.get(word) ?? 0) * ((tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * lengths[i]!) / averageLength)));
    }
    scores[i] = score;
  });
  return scores;
}
