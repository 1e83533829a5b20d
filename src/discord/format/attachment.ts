import { AttachmentBuilder } from 'discord.js';
import { DiscordLimits } from './limits.ts';
import { codeBlock } from './text.ts';

export interface TextOrFile {
  /** A code block when the text fits, else a line naming the attached file. */
  content: string;
  files: AttachmentBuilder[];
}

/**
 * Long text as a file, short text inline: the member always gets all of it.
 * `maxInline` is the room the caller leaves for the code block in its
 * message content (default: the whole 2,000).
 */
export function textOrFile(
  text: string,
  options: { filename: string; language?: string; maxInline?: number; describe?: (chars: number) => string },
): TextOrFile {
  const maxInline = Math.min(options.maxInline ?? DiscordLimits.content, DiscordLimits.content);
  const inline = codeBlock(text, { ...(options.language ? { language: options.language } : {}), max: Number.MAX_SAFE_INTEGER });
  if (inline.length <= maxInline) return { content: inline, files: [] };
  const describe = options.describe ?? ((chars: number) => `The full text (${chars.toLocaleString('en-US')} characters) is attached as \`${options.filename}\`.`);
  return {
    content: describe(text.length),
    files: [new AttachmentBuilder(Buffer.from(text, 'utf8'), { name: options.filename })],
  };
}
