/**
 * The reduce step of a map-reduce summary: merge the partial bullet lists,
 * drop near-identical points (keeping every citation they carried), and cut
 * to the summary type's length. Partials may come from a language model, so
 * parsing is lenient: anything that is not a bullet, heading or participants
 * line is ignored.
 */
import { rank, selectTop } from './rank.ts';
import { cite, clean, header, participantsLine } from './render.ts';
import type { Shape } from './shapes.ts';
import { POINTS, shapeOf } from './shapes.ts';
import { buildCorpus, tokenize } from './text-features.ts';

interface Point {
  body: string;
  refs: number[];
  /** The heading the point sat under (a participant, in our detailed layout). */
  group?: string;
  stems: ReadonlySet<string>;
  order: number;
}

const BULLET = /^\s*(?:[-*•]|\d{1,3}[.)])\s+(?:\[[ xX]\]\s+)?(.*)$/;
const HEADING = /^\s*(?:\*\*([^*]{1,80})\*\*:?|#{1,6}\s+(.{1,80}?))\s*$/;
const PARTICIPANTS = /^\s*\**participants\**:?\**\s*(.*)$/i;
const PARTICIPANT_ENTRY = /([^,(]{1,80}?)\s*\((\d{1,7}) messages?\)/g;
const CITATION = /\[(\d{1,7})\]/g;
const TRAILING_CITATIONS = /(?:\s*\[\d{1,7}\])+\s*$/;
/** Headings that name a section rather than a participant. */
const SECTION_NAMES = new Set(['timeline', 'key points', 'summary', 'action items', 'highlights', 'topics', 'decisions', 'other']);
/** Two points sharing this share of their words (Jaccard) say the same thing. */
const SAME_POINT = 0.8;
const MAX_ACTION_ITEMS = 25;
const MAX_LINE_CHARS = 2000;

export function reducePartials(partials: readonly string[], summaryType: string | undefined, knownRefs?: ReadonlySet<number>): string {
  const shape = shapeOf(summaryType);
  const participants = new Map<string, number>();
  const points: Point[] = [];
  for (const partial of partials) parsePartial(partial, points, participants, knownRefs);

  const merged = mergeDuplicates(points);
  const limit = shape === 'action_items' ? MAX_ACTION_ITEMS : POINTS[shape];
  const kept = merged.length > limit ? keepMostCentral(merged, limit) : merged;
  kept.sort(chronological);

  const lead = header(`merged from ${partials.length} partial summar${partials.length === 1 ? 'y' : 'ies'}, ${kept.length} point${kept.length === 1 ? '' : 's'}`);
  if (kept.length === 0) return `${lead}\n\nThe partial summaries held no points to merge.`;
  return [lead, '', ...render(kept, shape, participants)].join('\n');
}

function parsePartial(text: string, points: Point[], participants: Map<string, number>, knownRefs?: ReadonlySet<number>): void {
  let group: string | undefined;
  for (const fullLine of text.split(/\r?\n/)) {
    // Bounded so a pathological line cannot make the citation patterns quadratic.
    const line = fullLine.slice(0, MAX_LINE_CHARS);
    const participantsMatch = PARTICIPANTS.exec(line);
    if (participantsMatch) {
      for (const entry of (participantsMatch[1] ?? '').matchAll(PARTICIPANT_ENTRY)) {
        const name = (entry[1] ?? '').trim();
        if (name) participants.set(name, (participants.get(name) ?? 0) + Number(entry[2]));
      }
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      const title = (heading[1] ?? heading[2] ?? '').trim();
      group = SECTION_NAMES.has(title.toLowerCase()) ? undefined : title;
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
    points.push({
      body,
      refs,
      ...(group === undefined ? {} : { group }),
      stems: new Set(tokenize(body.replace(CITATION, ' ')).map((token) => token.stem)),
      order: points.length,
    });
  }
}

function mergeDuplicates(points: readonly Point[]): Point[] {
  const kept: Point[] = [];
  for (const point of points) {
    const same = kept.find((other) => samePoint(other, point));
    if (same) same.refs = [...new Set([...same.refs, ...point.refs])].sort((a, b) => a - b);
    else kept.push({ ...point, refs: [...point.refs] });
  }
  return kept;
}

function samePoint(a: Point, b: Point): boolean {
  if (a.stems.size === 0 || b.stems.size === 0) return a.body.toLowerCase() === b.body.toLowerCase();
  let shared = 0;
  for (const stem of a.stems) if (b.stems.has(stem)) shared++;
  return shared / (a.stems.size + b.stems.size - shared) >= SAME_POINT;
}

function keepMostCentral(points: readonly Point[], limit: number): Point[] {
  const corpus = buildCorpus(points.map((point) => point.body));
  const scores = rank(corpus.vectors);
  const picked = selectTop(scores, corpus.vectors, points.map((_, index) => index), { count: limit, maxSimilarity: 1.01, diversity: 0.3 });
  return picked.flatMap((index) => (points[index] ? [points[index]] : []));
}

/** By first citation (citations are chronological); uncited points last, in the order they came. */
function chronological(a: Point, b: Point): number {
  const first = (point: Point) => point.refs[0] ?? Number.POSITIVE_INFINITY;
  return first(a) - first(b) || a.order - b.order;
}

function line(point: Point, options: { checkbox?: boolean; withGroup?: boolean } = {}): string {
  const prefix = options.withGroup && point.group !== undefined ? `${clean(point.group, 64)}: ` : '';
  const refs = point.refs.length > 0 ? ` ${cite(point.refs)}` : '';
  return `- ${options.checkbox ? '[ ] ' : ''}${prefix}${point.body}${refs}`;
}

function render(points: readonly Point[], shape: Shape, participants: ReadonlyMap<string, number>): string[] {
  switch (shape) {
    case 'action_items':
      return points.map((point) => line(point, { checkbox: true, withGroup: true }));
    case 'detailed': {
      if (!points.some((point) => point.group !== undefined)) return points.map((point) => line(point));
      const groups = new Map<string, Point[]>();
      for (const point of points) {
        const group = point.group ?? 'Other';
        groups.set(group, [...(groups.get(group) ?? []), point]);
      }
      return [...groups.entries()].flatMap(([group, members], index) => [
        ...(index > 0 ? [''] : []),
        `**${clean(group, 64)}**`,
        ...members.map((point) => line(point)),
      ]);
    }
    case 'comprehensive': {
      const lines = participants.size > 0 ? [`Participants: ${participantsLine(participants)}`, ''] : [];
      return [...lines, '**Timeline**', ...points.map((point) => line(point, { withGroup: true }))];
    }
    case 'brief':
      return points.map((point) => line(point, { withGroup: true }));
  }
}
