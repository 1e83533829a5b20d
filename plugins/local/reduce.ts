/**
 * The reduce step of a map-reduce summary: read the partial summaries back
 * into one outline (decisions, topics with their key messages, open
 * questions, action items), drop points said twice (keeping every citation
 * they carried), and lay it out like a summary of the whole conversation,
 * topics in proportion to how many messages they held. Partials may come
 * from a language model, so parsing is lenient: bullets under headings it
 * does not know become points of a topic named by that heading.
 */
import { fitOutline, joinWhen, MODERATION_TITLE, SECTION_TITLES, type Item, type Outline, type Topic } from './outline.ts';
import { perspectiveOf, type Section } from './perspective.ts';
import { clean, header, participantsLine } from './render.ts';
import { shapeOf, type Shape } from './shapes.ts';
import { tokenize } from './text-features.ts';

const BULLET = /^\s*(?:[-*•]|\d{1,3}[.)])\s+(?:\[[ xX]\]\s+)?(.*)$/;
const HEADING = /^\s*(?:\*\*([^*]{1,120})\*\*:?|#{1,6}\s+(.{1,120}?))\s*(?:\((\d{1,9}) messages?\))?\s*$/;
const CHECKBOX = /^\s*(?:[-*•]|\d{1,3}[.)])\s+\[[ xX]\]\s/;
const PARTICIPANTS = /^\s*\**participants\**:?\**\s*(.*)$/i;
const PARTICIPANT_ENTRY = /([^,(]{1,80}?)\s*\((\d{1,7}) messages?\)/g;
const CITATION = /\[(\d{1,7})\]/g;
const TRAILING_CITATIONS = /(?:\s*\[\d{1,7}\])+\s*$/;
const SOURCE = /(\d[\d,]*) of (\d[\d,]*) messages? quoted|found in (\d[\d,]*) messages?/;
/** Two points sharing this share of their words (Jaccard) say the same thing. */
const SAME_POINT = 0.8;
const MAX_LINE_CHARS = 2000;
const DEFAULT_MAX_TOKENS = 4000;

const SECTIONS: ReadonlyMap<string, Section | 'moderation' | 'topic-list'> = new Map<string, Section | 'moderation' | 'topic-list'>([
  [SECTION_TITLES.decisions.toLowerCase(), 'decisions'],
  [SECTION_TITLES.questions.toLowerCase(), 'questions'],
  [SECTION_TITLES.actions.toLowerCase(), 'actions'],
  [SECTION_TITLES.topics.toLowerCase(), 'topic-list'],
  [MODERATION_TITLE.toLowerCase(), 'moderation'],
  ['action item', 'actions'],
  ['open question', 'questions'],
  ['unresolved', 'questions'],
  ['key points', 'topic-list'],
  ['highlights', 'topic-list'],
  ['summary', 'topic-list'],
  ['timeline', 'topic-list'],
]);

interface Parsed {
  decisions: Item[];
  questions: Item[];
  actions: Item[];
  moderation: Item[];
  topics: Topic[];
  participants: Map<string, number>;
  messages: number;
}

export function reducePartials(
  partials: readonly string[],
  summaryType: string | undefined,
  knownRefs?: ReadonlySet<number>,
  options: { perspective?: string | undefined; maxTokens?: number } = {},
): string {
  const shape: Shape = shapeOf(summaryType);
  const parsed: Parsed = { decisions: [], questions: [], actions: [], moderation: [], topics: [], participants: new Map(), messages: 0 };
  for (const partial of partials) parsePartial(partial, parsed, knownRefs);
  const points = parsed.decisions.length + parsed.questions.length + parsed.actions.length + parsed.topics.reduce((n, t) => n + t.points.length, 0);
  if (points === 0) {
    return `${header(`merged from ${partials.length} partial summar${partials.length === 1 ? 'y' : 'ies'}`)}\n\nThe partial summaries held no points to merge.`;
  }
  const outline: Outline = {
    source: parsed.messages > 0 ? `${parsed.messages} messages` : `${partials.length} partial summaries`,
    ...(parsed.participants.size > 0 ? { participants: participantsLine(parsed.participants) } : {}),
    decisions: dedupe(parsed.decisions),
    topics: mergeTopics(parsed.topics),
    questions: dedupe(parsed.questions),
    actions: dedupe(parsed.actions),
    ...(parsed.moderation.length > 0 ? { moderation: dedupe(parsed.moderation) } : {}),
  };
  return fitOutline(outline, shape, perspectiveOf(options.perspective), options.maxTokens ?? DEFAULT_MAX_TOKENS);
}

function sectionOf(title: string): Section | 'moderation' | 'topic-list' | undefined {
  const key = title.toLowerCase().replace(/s$/, '');
  return SECTIONS.get(title.toLowerCase()) ?? SECTIONS.get(key);
}

function parsePartial(text: string, parsed: Parsed, knownRefs?: ReadonlySet<number>): void {
  let section: Section | 'moderation' | 'topic-list' = 'topic-list';
  let topic: Topic | undefined;
  let order = 0;
  for (const fullLine of text.split(/\r?\n/)) {
    // Bounded so a pathological line cannot make the citation patterns quadratic.
    const line = fullLine.slice(0, MAX_LINE_CHARS);
    const source = SOURCE.exec(line);
    if (source && line.trimStart().startsWith('_')) {
      parsed.messages += Number((source[2] ?? source[3] ?? '0').replace(/,/g, ''));
      continue;
    }
    const participantsMatch = PARTICIPANTS.exec(line);
    if (participantsMatch) {
      for (const entry of (participantsMatch[1] ?? '').matchAll(PARTICIPANT_ENTRY)) {
        const name = (entry[1] ?? '').trim();
        if (name) parsed.participants.set(name, (parsed.participants.get(name) ?? 0) + Number(entry[2]));
      }
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      const title = (heading[1] ?? heading[2] ?? '').trim();
      const known = sectionOf(title);
      if (known !== undefined) {
        section = known;
        topic = undefined;
        continue;
      }
      section = 'topic-list';
      const [when, ...terms] = title.split(' · ');
      topic = { when: terms.length > 0 ? (when ?? '') : '', terms: terms.length > 0 ? terms.join(' · ') : title, messages: Number(heading[3] ?? 0), points: [] };
      parsed.topics.push(topic);
      continue;
    }
    const bulletMatch = BULLET.exec(line);
    if (!bulletMatch) continue;
    const raw = bulletMatch[1] ?? '';
    const refs = [...new Set([...raw.matchAll(CITATION)].map((match) => Number(match[1])))]
      .filter((ref) => !knownRefs || knownRefs.has(ref))
      .sort((a, b) => a - b);
    const body = clean(raw.replace(TRAILING_CITATIONS, ''), 300);
    if (!body) continue;
    const item: Item = { body, refs, rank: order++ };
    // A checklist line is an action item wherever it stands (an action-items partial has no section headings).
    if (CHECKBOX.test(line)) {
      parsed.actions.push(item);
    } else if (section === 'topic-list') {
      if (!topic) {
        topic = { when: '', terms: 'key points', messages: 0, points: [] };
        parsed.topics.push(topic);
      }
      topic.points.push(item);
    } else if (section === 'topics') {
      parsed.topics.push({ when: '', terms: 'key points', messages: 0, points: [item] });
    } else {
      parsed[section].push(item);
    }
  }
}

function stemsOf(body: string): Set<string> {
  return new Set(tokenize(body.replace(CITATION, ' ')).map((token) => token.stem));
}

function samePoint(a: Item, b: Item): boolean {
  if (a.refs.length > 0 && a.refs.length === b.refs.length && a.refs.every((ref, i) => ref === b.refs[i])) return true;
  const x = stemsOf(a.body);
  const y = stemsOf(b.body);
  if (x.size === 0 || y.size === 0) return a.body.toLowerCase() === b.body.toLowerCase();
  let shared = 0;
  for (const stem of x) if (y.has(stem)) shared++;
  return shared / (x.size + y.size - shared) >= SAME_POINT;
}

function dedupe(items: readonly Item[]): Item[] {
  const kept: Item[] = [];
  for (const item of items) {
    const same = kept.find((other) => samePoint(other, item));
    if (same) same.refs = [...new Set([...same.refs, ...item.refs])].sort((a, b) => a - b);
    else kept.push({ ...item, refs: [...item.refs] });
  }
  // Ranks restart in every partial; in the merged list, earlier partials' points and earlier points come first.
  return kept.map((item, index) => ({ ...item, rank: index }));
}

/** Topics in order, a topic cut by a chunk boundary joined back when its neighbour has the same words. */
function mergeTopics(topics: readonly Topic[]): Topic[] {
  const merged: Topic[] = [];
  for (const topic of topics) {
    const previous = merged.at(-1);
    if (previous && previous.terms === topic.terms && topic.terms !== 'key points') {
      previous.messages += topic.messages;
      previous.when = joinWhen(previous.when, topic.when);
      previous.points.push(...topic.points);
      continue;
    }
    merged.push({ ...topic, points: [...topic.points] });
  }
  for (const topic of merged) topic.points = dedupe(topic.points);
  return merged;
}
