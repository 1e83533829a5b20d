import { escapeMarkdown } from 'discord.js';

/**
 * Text from outside (a repository, a provider, a member) shown as plain
 * text: markdown escaped, mentions (`@everyone`, `<@id>`, `<#id>`) broken so
 * they never resolve, control characters removed. Whole `https://` URLs stay
 * links, without embeds.
 */
export function plainText(text: string): string {
  return text
    .replace(/[\u0000-\u0009\u000b-\u001f\u007f]/g, ' ')
    .split(/(\s+)/)
    .map((token) => (isLink(token) ? `<${token}>` : defuse(escapeMarkdown(token))))
    .join('');
}

function isLink(token: string): boolean {
  if (!/^https:\/\/[^\s<>"`|]+$/.test(token)) return false;
  try {
    return new URL(token).protocol === 'https:';
  } catch {
    return false;
  }
}

function defuse(text: string): string {
  return text.replace(/@/g, '@\u200b').replace(/</g, '<\u200b');
}
