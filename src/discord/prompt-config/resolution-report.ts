import type { APIEmbed, AttachmentBuilder } from 'discord.js';
import type { PromptContext, ResolvedPrompt } from '../../prompts/types.ts';
import { EmbedColors, boundedEmbed } from '../format/embed.ts';
import { textOrFile } from '../format/attachment.ts';
import { DiscordLimits } from '../format/limits.ts';
import { boundedCodeLines, boundedLines, inlineCode, plural, shortSha } from '../format/text.ts';
import { LEVEL_TEXT } from './level-text.ts';

export interface ResolutionMessage {
  content: string;
  embeds: APIEmbed[];
  files: AttachmentBuilder[];
}

/**
 * `/prompt-config test`: where the prompt for this request comes from, every
 * path looked at, why earlier levels were passed over, and the rendered
 * prompt itself (inline when it fits, else as prompt.md).
 */
export function resolutionMessage(resolved: ResolvedPrompt, context: PromptContext): ResolutionMessage {
  const source =
    resolved.repo === null
      ? 'compiled-in fallback'
      : resolved.repo === 'bundled'
        ? 'bundled prompts'
        : `${inlineCode(`${resolved.repo}${resolved.ref === null ? '' : `@${resolved.ref}`}`)}`;
  const contextLines = (['category', 'type', 'perspective', 'channel_name', 'channel_id', 'guild_name', 'guild_id', 'date', 'locale', 'user'] as const)
    .filter((key) => context[key] !== undefined)
    .map((key) => `${key} = ${String(context[key])}`);
  const parameters = Object.entries(resolved.parameters).map(([k, v]) => `${k} = ${String(v)}`);
  const reasons = resolved.reasons.map((r) => `${r.level}: ${r.reason}`);
  const staleNote = resolved.staleAgeMs === null ? '' : `\nSnapshot age: ${Math.round(resolved.staleAgeMs / 60_000)} min`;

  const embed = boundedEmbed({
    title: `Prompt resolution: level ${resolved.level}`,
    color: resolved.level === 'custom' ? EmbedColors.ok : resolved.level === 'fallback' ? EmbedColors.warning : EmbedColors.info,
    description: `${LEVEL_TEXT[resolved.level]}${staleNote}${resolved.description ? `\n${inlineCode(resolved.description, 200)}` : ''}`,
    fields: [
      { name: 'Source', value: source, inline: true },
      { name: 'Commit', value: resolved.commit === null ? 'none' : inlineCode(shortSha(resolved.commit)), inline: true },
      { name: 'Path', value: resolved.path === null ? 'none (no file matched)' : inlineCode(resolved.path, 300), inline: true },
      {
        name: `Paths tried (${resolved.tried.length})`,
        value:
          resolved.tried.length === 0
            ? 'none'
            : boundedCodeLines(
                resolved.tried.map((p, i) => `${i + 1}. ${p}${p === resolved.path ? '  ← used' : ''}`),
                { max: DiscordLimits.fieldValue, more: (n) => `…and ${plural(n, 'more path', 'more paths')}` },
              ),
      },
      {
        name: 'Earlier levels passed over',
        value: reasons.length === 0 ? 'none: the first level served' : boundedCodeLines(reasons, { max: DiscordLimits.fieldValue }),
      },
      { name: 'Model parameters', value: parameters.length === 0 ? 'none set (the bot defaults apply)' : boundedCodeLines(parameters, { max: 500 }) },
      { name: 'Request context', value: boundedCodeLines(contextLines, { max: 700 }) },
      resolved.warnings.length > 0 && {
        name: 'Warnings',
        value: boundedLines(resolved.warnings, { max: DiscordLimits.fieldValue }).text,
      },
    ],
  });
  const prompt = textOrFile(resolved.content, {
    filename: 'prompt.md',
    language: 'md',
    maxInline: DiscordLimits.content - 40,
    describe: (chars) => `The rendered prompt (${chars.toLocaleString('en-US')} characters) is attached as \`prompt.md\`.`,
  });
  return {
    content: prompt.files.length === 0 ? `**Rendered prompt**\n${prompt.content}` : prompt.content,
    embeds: [embed],
    files: prompt.files,
  };
}
