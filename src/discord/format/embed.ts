import type { APIEmbed, APIEmbedField } from 'discord.js';
import { DiscordLimits } from './limits.ts';
import { truncate } from './text.ts';

/** Colours with a meaning, so every command says "fine / careful / failed" the same way. */
export const EmbedColors = {
  ok: 0x2e7d32,
  info: 0x1565c0,
  warning: 0xef6c00,
  error: 0xc62828,
} as const;

export interface EmbedFieldInput {
  name: string;
  /** Empty values are shown as "—" (Discord refuses empty fields). */
  value: string;
  inline?: boolean;
}

export interface EmbedInput {
  title?: string;
  description?: string;
  url?: string | undefined;
  color?: number;
  fields?: ReadonlyArray<EmbedFieldInput | null | undefined | false>;
  footer?: string;
  timestamp?: Date;
}

/**
 * An embed that Discord will accept whatever went in: every part cut to its
 * limit, at most 25 fields, and the whole within the per-message total (the
 * description shrinks first, then trailing fields are dropped with a note).
 */
export function boundedEmbed(input: EmbedInput, totalBudget: number = DiscordLimits.embedTotal): APIEmbed {
  const embed: APIEmbed = {};
  if (input.title) embed.title = truncate(input.title, DiscordLimits.embedTitle);
  if (input.url) embed.url = input.url;
  if (input.color !== undefined) embed.color = input.color;
  if (input.footer) embed.footer = { text: truncate(input.footer, DiscordLimits.footerText) };
  if (input.timestamp) embed.timestamp = input.timestamp.toISOString();
  let fields: APIEmbedField[] = (input.fields ?? [])
    .filter((f): f is EmbedFieldInput => Boolean(f))
    .map((f) => ({
      name: truncate(f.name.trim() === '' ? '\u200b' : f.name, DiscordLimits.fieldName),
      value: truncate(f.value.trim() === '' ? '—' : f.value, DiscordLimits.fieldValue),
      ...(f.inline ? { inline: true } : {}),
    }));
  if (fields.length > DiscordLimits.embedFields) {
    const dropped = fields.length - (DiscordLimits.embedFields - 1);
    fields = [...fields.slice(0, DiscordLimits.embedFields - 1), { name: 'More', value: `${dropped} more fields left out` }];
  }
  const fixed = (embed.title?.length ?? 0) + (embed.footer?.text.length ?? 0);
  let fieldsLength = fields.reduce((sum, f) => sum + f.name.length + f.value.length, 0);
  // Keep at least some description: it usually says what the embed is about.
  const descriptionFloor = Math.min(input.description?.length ?? 0, 200);
  while (fields.length > 0 && fixed + fieldsLength + descriptionFloor > totalBudget) {
    const removed = fields.pop()!;
    fieldsLength -= removed.name.length + removed.value.length;
  }
  if (input.description) {
    const room = Math.max(0, Math.min(DiscordLimits.embedDescription, totalBudget - fixed - fieldsLength));
    if (room > 0) embed.description = truncate(input.description, room);
  }
  if (fields.length > 0) embed.fields = fields;
  return embed;
}

/** Characters Discord counts against the 6,000 per message. */
export function embedLength(embed: APIEmbed): number {
  return (
    (embed.title?.length ?? 0) +
    (embed.description?.length ?? 0) +
    (embed.footer?.text.length ?? 0) +
    (embed.author?.name.length ?? 0) +
    (embed.fields ?? []).reduce((sum, f) => sum + f.name.length + f.value.length, 0)
  );
}
