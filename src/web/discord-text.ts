import type { Guild } from 'discord.js';

/**
 * A bot reply written for Discord (mentions, `code`, **bold**) as plain text
 * for a page: `<#id>` becomes `#name`, `<@&id>` `@role`, `<@id>` `@name`, from
 * what the guild's caches hold (else the id). The page escapes the result.
 */
export function discordTextToPlain(text: string, guild: Guild): string {
  return text
    .replace(/<#(\d{1,22})>/g, (_m, id: string) => `#${guild.channels.cache.get(id)?.name ?? id}`)
    .replace(/<@&(\d{1,22})>/g, (_m, id: string) => `@${guild.roles.cache.get(id)?.name ?? id}`)
    .replace(/<@!?(\d{1,22})>/g, (_m, id: string) => `@${guild.members.cache.get(id)?.displayName ?? id}`)
    .replace(/\*\*|`/g, '');
}
