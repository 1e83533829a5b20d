/**
 * Turning chat messages into comparable vectors: tokenize, lowercase, drop
 * stop words, crude stemming, TF-IDF weights, cosine similarity. Enough for
 * extractive ranking without any model or dictionary files.
 */

const STOP_WORDS = new Set(
  `a about above after again against all also am an and any are aren't as at be because been before being below between
  both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each few for from further
  had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers herself him himself his how how's i i'd
  i'll i'm i've if in into is isn't it it's its itself just let's me more most mustn't my myself no nor not now of off on
  once only or other ought our ours ourselves out over own same shan't she she'd she'll she's should shouldn't so some such
  than that that's the their theirs them themselves then there there's these they they'd they'll they're they've this those
  through to too under until up very was wasn't we we'd we'll we're we've were weren't what what's when when's where where's
  which while who who's whom why why's will with won't would wouldn't you you'd you'll you're you've your yours yourself
  yourselves yes yeah yep yup nope ok okay oh hey hi hello thanks thank thx ty lol lmao haha hahaha hmm um uh like really
  gonna wanna gotta got get gets getting go going went one two also still even much many maybe think thought know sure
  though actually pretty something anything thing things way well right good great nice cool please let`
    .split(/\s+/)
    .filter(Boolean),
);

/** Discord markup and links carry no topic words: `<@123>`, `<#123>`, `<:emoji:123>`, URLs. */
const NOISE = /https?:\/\/\S+|<(?:@[!&]?|#|a?:\w{1,32}:)\d{1,20}>/g;
const WORD = /[\p{L}\p{N}][\p{L}\p{N}'_-]*/gu;

function stem(word: string): string {
  let w = word;
  if (w.endsWith("'s")) w = w.slice(0, -2);
  if (w.length > 4 && w.endsWith('ies')) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us')) w = w.slice(0, -1);
  if (w.length > 5 && w.endsWith('ing')) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith('ed')) w = w.slice(0, -2);
  const last = w.at(-1);
  if (w.length > 3 && last !== undefined && last === w.at(-2) && !'lsz'.includes(last) && !/[aeiou0-9]/.test(last)) w = w.slice(0, -1);
  if (w.length > 3 && w.endsWith('e')) w = w.slice(0, -1);
  return w;
}

interface Token {
  stem: string;
  surface: string;
}

export function tokenize(text: string): Token[] {
  const normalized = text.normalize('NFKC').toLowerCase().replace(/[’‘]/g, "'").replace(NOISE, ' ');
  const tokens: Token[] = [];
  for (const match of normalized.matchAll(WORD)) {
    const surface = match[0].replace(/['_-]+$/, '');
    if (surface.length < 2 || STOP_WORDS.has(surface) || /^\d+$/.test(surface)) continue;
    tokens.push({ stem: stem(surface), surface });
  }
  return tokens;
}

/** Sparse, L2-normalised TF-IDF vector: term → weight. */
export type Vector = ReadonlyMap<string, number>;

export interface Corpus {
  vectors: Vector[];
  /** Number of content tokens per document (after stop words). */
  lengths: number[];
  /** IDF-weighted importance of each stem across the corpus, and its most common surface form. */
  terms: Map<string, { weight: number; surface: string }>;
}

export function buildCorpus(documents: readonly string[]): Corpus {
  const tokenized = documents.map(tokenize);
  const documentFrequency = new Map<string, number>();
  const surfaces = new Map<string, Map<string, number>>();
  for (const tokens of tokenized) {
    for (const stemmed of new Set(tokens.map((token) => token.stem))) {
      documentFrequency.set(stemmed, (documentFrequency.get(stemmed) ?? 0) + 1);
    }
    for (const token of tokens) {
      const forms = surfaces.get(token.stem) ?? new Map<string, number>();
      forms.set(token.surface, (forms.get(token.surface) ?? 0) + 1);
      surfaces.set(token.stem, forms);
    }
  }
  const n = documents.length;
  const idf = (term: string) => Math.log((1 + n) / (1 + (documentFrequency.get(term) ?? 0))) + 1;

  const terms = new Map<string, { weight: number; surface: string }>();
  const vectors = tokenized.map((tokens) => {
    const counts = new Map<string, number>();
    for (const token of tokens) counts.set(token.stem, (counts.get(token.stem) ?? 0) + 1);
    const weights = new Map<string, number>();
    let norm = 0;
    for (const [term, count] of counts) {
      // Sub-linear tf: a word repeated five times in one message is not five times as important.
      const weight = (1 + Math.log(count)) * idf(term);
      weights.set(term, weight);
      norm += weight * weight;
    }
    norm = Math.sqrt(norm);
    for (const [term, weight] of weights) {
      weights.set(term, weight / norm);
      const entry = terms.get(term);
      terms.set(term, { weight: (entry?.weight ?? 0) + weight, surface: entry?.surface ?? mostCommon(surfaces.get(term)) });
    }
    return weights;
  });
  return { vectors, lengths: tokenized.map((tokens) => tokens.length), terms };
}

export function cosine(a: Vector, b: Vector): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let sum = 0;
  for (const [term, weight] of small) {
    const other = large.get(term);
    if (other !== undefined) sum += weight * other;
  }
  return sum;
}

/** Ties go to the alphabetically first form so output never depends on insertion order. */
function mostCommon(forms: ReadonlyMap<string, number> | undefined): string {
  let best = '';
  let bestCount = -1;
  for (const [form, count] of forms ?? []) {
    if (count > bestCount || (count === bestCount && form < best)) {
      best = form;
      bestCount = count;
    }
  }
  return best;
}
