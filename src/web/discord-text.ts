import type { Guild } from 'discord.js';

/**
 * A bot reply written for Discord (mentions, `code`, **bold**) as plain text
 * for a page: `<#id>` becomes `#name` when the viewer may know it (`nameable`;
 * Discord itself hides the names of channels a member cannot see), `<@&id>`
 * `@role`, `<@id>` `@name`, from what the guild's caches hold (else the id).
 * The page escapes the result.
 */
export function discordTextToPlain(text: string, guild: Guild, nameable: ReadonlySet<string>): string {
  return text
    .replace(/<#(\d{1,22})>/g, (_m, id: string) => {
      const name = nameable.has(id) ? guild.channels.cache.get(id)?.name : undefined;
      return name === undefined ? 'a channel you cannot see' : `#${name}`;
    })
    .replace(/<@&(\d{1,22})>/g, (_m, id: string) => `@${guild.roles.cache.get(id)?.name ?? id}`)
    .replace(/<@!?(\d{1,22})>/g, (_m, id: string) => `@${guild.members.cache.get(id)?.displayName ?? id}`)
    .replace(/\*\*|`/g, '');
}
