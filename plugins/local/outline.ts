/**
 * The shape of an offline summary, between choosing what to say and
 * writing it: decisions, topics (time segments with their key messages),
 * open questions and action items. Summaries of messages and merges of
 * partial summaries both build one; it is laid out per summary type and
 * trimmed to the answer's token budget, keeping at least one point per topic
 * for as long as possible so every part of the window stays covered.
 */
import { estimateTokens } from '../../src/llm/provider-spec/contract.ts';
import type { Perspective, Section } from './perspective.ts';
import { cite, clean, header } from './render.ts';
import type { Shape } from './shapes.ts';

export interface Item {
  /** Rendered text without the bullet and without the citations. */
  body: string;
  refs: number[];
  /** Lower is more important; trimming drops the highest first. */
  rank: number;
}

export interface Topic {
  /** `05-14 08:00–08:45` */
  when: string;
  /** `release, parser, opml` */
  terms: string;
  messages: number;
  points: Item[];
}

export interface Outline {
  /** What the header says was summarized, e.g. "30 messages". */
  source: string;
  participants?: string;
  period?: string;
  decisions: Item[];
  topics: Topic[];
  questions: Item[];
  actions: Item[];
  /** Spam-shaped messages, listed only when the type asks for moderation. */
  moderation?: Item[];
}

export const SECTION_TITLES: Readonly<Record<Section, string>> = {
  decisions: 'Decisions',
  topics: 'Topics',
  questions: 'Open questions',
  actions: 'Action items',
};
export const MODERATION_TITLE = 'Moderation';

function bullet(item: Item, checkbox = false): string {
  const refs = item.refs.length > 0 ? ` ${cite(item.refs)}` : '';
  return `- ${checkbox ? '[ ] ' : ''}${item.body}${refs}`;
}

export function topicHeading(topic: Topic): string {
  return `**${clean(`${topic.when} · ${topic.terms}`, 100)}** (${topic.messages} message${topic.messages === 1 ? '' : 's'})`;
}

function countPoints(outline: Outline): number {
  const refs = new Set<number>();
  for (const item of [...outline.decisions, ...outline.questions, ...outline.actions, ...outline.topics.flatMap((t) => t.points)]) {
    for (const ref of item.refs) refs.add(ref);
  }
  return refs.size;
}

export function renderOutline(outline: Outline, shape: Shape, perspective: Perspective): string {
  const quoted = countPoints(outline);
  if (shape === 'action_items') {
    const lead = header(`${outline.actions.length} action item${outline.actions.length === 1 ? '' : 's'} found in ${outline.source}`);
    if (outline.actions.length === 0) return `${lead}\n\nNo commitments, requests or deadlines with an owner were found.`;
    return [lead, '', ...outline.actions.map((item) => bullet(item, true))].join('\n');
  }
  const topicCount = outline.topics.filter((t) => t.points.length > 0).length;
  const lead = header(`${quoted} of ${outline.source} quoted, ${topicCount} topic${topicCount === 1 ? '' : 's'}`);
  if (shape === 'brief') {
    const lines: string[] = [];
    for (const section of perspective.order) {
      if (section === 'decisions') lines.push(...outline.decisions.map((item) => bullet({ ...item, body: `Decision: ${item.body}` })));
      if (section === 'topics') lines.push(...outline.topics.flatMap((t) => t.points.map((item) => bullet(item))));
      if (section === 'questions') lines.push(...outline.questions.map((item) => bullet({ ...item, body: `Open: ${item.body}` })));
      if (section === 'actions') lines.push(...outline.actions.map((item) => bullet(item, true)));
    }
    return [lead, '', ...(lines.length > 0 ? lines : ['Nothing but small talk, links and attachments was said.'])].join('\n');
  }
  const blocks: string[][] = [];
  if (shape === 'comprehensive') {
    const context = [outline.participants ? `Participants: ${outline.participants}` : '', outline.period ? `Period: ${outline.period}` : ''].filter(Boolean);
    if (context.length > 0) blocks.push(context);
  }
  for (const section of perspective.order) {
    const title = `**${SECTION_TITLES[section]}**`;
    if (section === 'topics') {
      const topics = outline.topics.filter((t) => t.points.length > 0);
      if (topics.length === 0) continue;
      blocks.push([title, ...topics.flatMap((topic) => [topicHeading(topic), ...topic.points.map((item) => bullet(item))])]);
      continue;
    }
    const items = outline[section];
    if (items.length === 0) continue;
    blocks.push([title, ...items.map((item) => bullet(item, section === 'actions'))]);
  }
  if (outline.moderation && outline.moderation.length > 0) blocks.push([`**${MODERATION_TITLE}**`, ...outline.moderation.map((item) => bullet(item))]);
  if (blocks.length === 0) blocks.push(['Nothing but small talk, links and attachments was said.']);
  return [lead, '', ...blocks.flatMap((block, index) => [...(index > 0 ? [''] : []), ...block])].join('\n');
}

/**
 * Drops the least important points until the rendering fits `maxTokens`:
 * first extra points of the topic with the most, then the longest of the
 * other lists beyond a floor, then whole topics (the smallest first).
 */
export function fitOutline(outline: Outline, shape: Shape, perspective: Perspective, maxTokens: number): string {
  let text = renderOutline(outline, shape, perspective);
  const budget = Math.max(50, Math.floor(maxTokens * 0.95));
  for (let guard = 0; estimateTokens(text) > budget && guard < 10_000; guard++) {
    if (!dropOne(outline)) break;
    text = renderOutline(outline, shape, perspective);
  }
  return text;
}

function dropWorst(items: Item[]): void {
  let worst = 0;
  items.forEach((item, index) => {
    if (item.rank > (items[worst]?.rank ?? Number.NEGATIVE_INFINITY)) worst = index;
  });
  items.splice(worst, 1);
}

/** The topic with fewer messages of a topic and its neighbour is folded into the neighbour, which keeps its points. */
function foldSmallestTopic(outline: Outline): boolean {
  const topics = outline.topics.filter((t) => t.points.length > 0);
  if (topics.length < 2) return false;
  let smallest = 0;
  topics.forEach((t, i) => {
    if (t.messages < topics[smallest]!.messages) smallest = i;
  });
  const left = topics[smallest - 1];
  const right = topics[smallest + 1];
  const into = !right || (left && left.messages <= right.messages) ? left! : right;
  const gone = topics[smallest]!;
  into.when = into === left ? joinWhen(into.when, gone.when) : joinWhen(gone.when, into.when);
  into.messages += gone.messages;
  outline.topics = outline.topics.filter((t) => t !== gone);
  return true;
}

export function joinWhen(a: string, b: string): string {
  const start = a.split('–')[0] ?? a;
  const end = b.split('–').at(-1) ?? b;
  return start && end ? `${start}–${end}` : a || b;
}

function dropBeyond(lists: Item[][], floor: number): boolean {
  const longest = lists.reduce((best, list) => (list.length > best.length ? list : best), [] as Item[]);
  if (longest.length <= floor) return false;
  dropWorst(longest);
  return true;
}

/**
 * One step of trimming, least valuable first: extra points of the fullest
 * topic, then questions and action items beyond three, then topics folded
 * into their neighbours, then the lists down to one, then decisions. A
 * decision is the last thing cut: it is what most readers came for.
 */
function dropOne(outline: Outline): boolean {
  const fullest = outline.topics.reduce<Topic | undefined>((best, t) => (t.points.length > (best?.points.length ?? 0) ? t : best), undefined);
  if (fullest && fullest.points.length > 1) {
    dropWorst(fullest.points);
    return true;
  }
  const side = [outline.questions, outline.actions, outline.moderation ?? []];
  if (dropBeyond(side, 3)) return true;
  if (foldSmallestTopic(outline)) return true;
  if (dropBeyond(side, 1)) return true;
  if (dropBeyond([outline.decisions], 3)) return true;
  if (dropBeyond(side, 0)) return true;
  if (dropBeyond([outline.decisions], 0)) return true;
  const last = outline.topics.find((t) => t.points.length > 0);
  if (last) {
    dropWorst(last.points);
    return true;
  }
  return false;
}
