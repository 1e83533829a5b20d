/** Extractive summaries of numbered messages, laid out per summary type. */
import { findActionItems } from './action-items.ts';
import type { NumberedMessage } from './messages.ts';
import { analyse, pickRepresentative, topTerms } from './messages.ts';
import { bullet, clean, clock, countByAuthor, formatPeriod, header, parseTime, participantsLine } from './render.ts';
import type { Shape } from './shapes.ts';
import { POINTS, shapeOf } from './shapes.ts';

export function summarizeMessages(messages: readonly NumberedMessage[], summaryType: string | undefined): string {
  if (messages.length === 0) return `${header('no messages to summarize')}\n\nNothing was said in this period.`;
  const shape = shapeOf(summaryType);
  if (shape === 'action_items') return renderActionItems(messages);
  const analysis = analyse(messages);
  const picks = pickRepresentative(analysis, POINTS[shape]);
  const lead = header(`${picks.length} of ${messages.length} message${messages.length === 1 ? '' : 's'} quoted`);
  return [lead, '', ...LAYOUTS[shape](picks, analysis.messages, topTerms(analysis, 5))].join('\n');
}

type Layout = (picks: readonly NumberedMessage[], all: readonly NumberedMessage[], topics: readonly string[]) => string[];

const LAYOUTS: Record<Exclude<Shape, 'action_items'>, Layout> = {
  brief: (picks) => picks.map((message) => bullet(message)),

  /** Grouped by participant, groups in the order they first made a picked point. */
  detailed: (picks) => {
    const groups = new Map<string, NumberedMessage[]>();
    for (const message of picks) groups.set(message.author, [...(groups.get(message.author) ?? []), message]);
    return [...groups.entries()].flatMap(([author, messages], index) => [
      ...(index > 0 ? [''] : []),
      `**${clean(author, 64)}**`,
      ...messages.map((message) => bullet(message, { withAuthor: false })),
    ]);
  },

  comprehensive: (picks, all, topics) => {
    const period = formatPeriod(all);
    const lines = [`Participants: ${participantsLine(countByAuthor(all))}`];
    if (period) lines.push(`Period: ${period.text}, ${all.length} message${all.length === 1 ? '' : 's'}`);
    if (topics.length > 0) lines.push(`Topics: ${topics.map((topic) => clean(topic, 40)).join(', ')}`);
    lines.push('', '**Timeline**');
    for (const message of picks) {
      const date = parseTime(message.timestamp);
      lines.push(bullet(message, date ? { prefix: `${clock(date, period?.spansDays ?? false)} ` } : {}));
    }
    return lines;
  },
};

function renderActionItems(messages: readonly NumberedMessage[]): string {
  const items = findActionItems(messages, POINTS.action_items);
  const lead = header(`${items.length} action item${items.length === 1 ? '' : 's'} found in ${messages.length} message${messages.length === 1 ? '' : 's'}`);
  if (items.length === 0) return `${lead}\n\nNo commitments, requests or deadlines were found.`;
  const lines = items.map((item) => {
    const who = item.raisedBy === undefined ? clean(item.owner, 64) : `${clean(item.owner, 64)} (${item.owner === 'team' || item.owner === 'unassigned' ? 'raised' : 'asked'} by ${clean(item.raisedBy, 64)})`;
    const due = item.due ? ` (due: ${clean(item.due, 40)})` : '';
    return `- [ ] ${who}: ${clean(item.message.content)}${due} [${item.message.ref}]`;
  });
  return [lead, '', ...lines].join('\n');
}
