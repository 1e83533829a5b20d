/** Shared shaping of bot replies within Discord's limits. */
export { DiscordLimits } from './limits.ts';
export {
  boundedCodeLines,
  boundedLines,
  codeBlock,
  defuseFences,
  describeDuration,
  discordTime,
  discordTimeWithAge,
  inlineCode,
  plural,
  shortSha,
  truncate,
  type BoundedLinesOptions,
} from './text.ts';
export { EmbedColors, boundedEmbed, embedLength, fitEmbeds, type EmbedFieldInput, type EmbedInput } from './embed.ts';
export { textOrFile, type TextOrFile } from './attachment.ts';
