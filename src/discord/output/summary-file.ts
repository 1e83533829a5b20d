/**
 * `format:file`: a summary as one Markdown file attached to one message,
 * whose embed names the file and carries the title and footer, for long
 * summaries read better outside Discord.
 */
import { AttachmentBuilder } from 'discord.js';
import { DiscordLimits } from '../format/limits.ts';
import type { EmbedDocument, EmbedMessage } from './summary-messages.ts';

export type FileMessage = EmbedMessage & { files: AttachmentBuilder[] };

/** The file's name: the channel's name reduced to letters, digits, "-" and "_". */
export function summaryFilename(channelName: string): string {
  const safe = channelName.normalize('NFKD').replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60);
  return `summary-${safe === '' ? 'channel' : safe}.md`;
}

export function summaryMarkdown(doc: EmbedDocument): string {
  const notes = (doc.notes ?? []).filter((n) => n.trim() !== '');
  const body = doc.text.trim() === '' ? (doc.emptyText ?? '') : doc.text.trim();
  return [
    `# ${doc.title}`,
    ...(doc.url === undefined ? [] : [`<${doc.url}>`]),
    body,
    ...(notes.length === 0 ? [] : [`## Notes\n${notes.map((n) => `- ${n}`).join('\n')}`]),
    `---\n${doc.footer}`,
  ].join('\n\n').concat('\n');
}

export function summaryFileMessage(doc: EmbedDocument, channelName: string): FileMessage {
  const name = summaryFilename(channelName);
  const markdown = summaryMarkdown(doc);
  return {
    embeds: [
      {
        title: doc.title.slice(0, DiscordLimits.embedTitle),
        ...(doc.url === undefined ? {} : { url: doc.url }),
        description: `The summary is attached as \`${name}\` (${markdown.length.toLocaleString('en-US')} characters of Markdown).`,
        footer: { text: doc.footer.slice(0, DiscordLimits.footerText) },
        ...(doc.color === undefined ? {} : { color: doc.color }),
      },
    ],
    allowedMentions: { parse: [] },
    files: [new AttachmentBuilder(Buffer.from(markdown, 'utf8'), { name, description: doc.title.slice(0, 1024) })],
  };
}
