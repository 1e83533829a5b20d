/**
 * A message in the two webhook dialects receivers speak: Discord's
 * `{content, embeds}` and Slack's `{text, blocks}`, within each one's size
 * limits (longer text is cut with an ellipsis and a line saying so). Text is
 * data: Discord gets `allowed_mentions: { parse: [] }` so no @everyone or
 * role in a summary pings anyone, and Slack's control characters (&, <, >)
 * are escaped so a summary cannot forge `<!channel>` or a link.
 */
export type WebhookFormat = 'discord' | 'slack';
export const WEBHOOK_FORMATS: readonly WebhookFormat[] = ['discord', 'slack'];

export interface WebhookMessage {
  /** One line: what this is ("Summary of #dev-chat"). */
  title: string;
  /** Markdown body, as data (escaped for Slack here). */
  body: string;
  /** Listed under the body, e.g. the messages a summary cites; only https URLs, at most MAX_LINKS. */
  links?: ReadonlyArray<{ label: string; url: string }>;
  /** Small print under the body (prompt, model). */
  footer?: string;
  /** ISO 8601, shown by Discord as the embed's time. */
  timestamp?: string;
}

const DISCORD = { content: 2_000, title: 256, description: 4_096, footer: 2_048, embedTotal: 6_000 };
const SLACK = { header: 150, section: 3_000, sections: 10, context: 2_000 };
const CUT_NOTE = '\n\n… (cut to fit the webhook)';
export const MAX_LINKS = 25;

export function webhookPayload(format: WebhookFormat, message: WebhookMessage): Record<string, unknown> {
  return format === 'discord' ? discordPayload(message) : slackPayload(message);
}

function discordPayload({ title, body, links, footer, timestamp }: WebhookMessage): Record<string, unknown> {
  const embedTitle = cut(oneLine(title), DISCORD.title);
  const footerText = footer === undefined ? undefined : cut(footer, DISCORD.footer);
  const room = Math.min(DISCORD.description, DISCORD.embedTotal - embedTitle.length - (footerText?.length ?? 0));
  return {
    content: cut(oneLine(title), DISCORD.content),
    embeds: [
      {
        title: embedTitle,
        description: withLinks(cutWithNote(body, room), links, room, (l) => `${l.label} → ${l.url}`),
        ...(footerText === undefined ? {} : { footer: { text: footerText } }),
        ...(timestamp === undefined ? {} : { timestamp }),
      },
    ],
    allowed_mentions: { parse: [] },
  };
}

function slackPayload({ title, body, links, footer }: WebhookMessage): Record<string, unknown> {
  const header = cut(oneLine(title), SLACK.header);
  const blocks: Record<string, unknown>[] = [{ type: 'header', text: { type: 'plain_text', text: header } }];
  const budget = SLACK.section * SLACK.sections;
  const text = withLinks(cutWithNote(slackEscape(body), budget), links, budget, (l) => `<${l.url}|${slackEscape(l.label)}>`);
  for (const part of splitAt(text, SLACK.section)) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: part } });
  }
  if (footer !== undefined) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: cut(slackEscape(footer), SLACK.context) }] });
  return { text: slackEscape(header), blocks };
}

/** Escapes Slack's control characters in text that is data. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The body with a line per link appended, as many as fit in `max` characters. */
function withLinks(
  body: string,
  links: WebhookMessage['links'],
  max: number,
  line: (link: { label: string; url: string }) => string,
): string {
  let out = body;
  let first = true;
  for (const link of (links ?? []).slice(0, MAX_LINKS)) {
    // Only plain https URLs: anything else could break out of the link syntax.
    if (!/^https:\/\/[^\s<>|()]+$/.test(link.url)) continue;
    const next = `${first ? '\n\n' : '\n'}${line({ label: oneLine(link.label), url: link.url })}`;
    if ([...out].length + [...next].length > max) break;
    out += next;
    first = false;
  }
  return out;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function cut(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

function cutWithNote(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  return `${chars.slice(0, Math.max(0, max - CUT_NOTE.length)).join('').trimEnd()}${CUT_NOTE}`;
}

/** Pieces of at most `size` characters, broken at a line end where one is near. */
function splitAt(text: string, size: number): string[] {
  const parts: string[] = [];
  let rest = text;
  while ([...rest].length > size) {
    const head = [...rest].slice(0, size).join('');
    const newline = head.lastIndexOf('\n');
    const end = newline > size / 2 ? newline : head.length;
    parts.push(head.slice(0, end));
    rest = rest.slice(end).replace(/^\n/, '');
  }
  if (rest.trim() !== '') parts.push(rest);
  return parts;
}
