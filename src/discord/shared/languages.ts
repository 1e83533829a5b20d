/**
 * The `language` option of the summary commands: the languages Discord's
 * clients come in, offered by autocomplete as "Deutsch (de)"; the chosen
 * code is the prompt's `{locale}`. Without one, the guild's preferred locale.
 */
import type { AutocompleteInteraction } from 'discord.js';
import { UserFacingError } from '../errors.ts';
import { DiscordLimits } from '../format/limits.ts';

/** Discord's locales and their names in their own language. */
export const LANGUAGES: ReadonlyArray<{ code: string; name: string }> = [
  { code: 'en-US', name: 'English (US)' },
  { code: 'en-GB', name: 'English (UK)' },
  { code: 'de', name: 'Deutsch' },
  { code: 'fr', name: 'Français' },
  { code: 'es-ES', name: 'Español' },
  { code: 'es-419', name: 'Español (Latinoamérica)' },
  { code: 'pt-BR', name: 'Português (Brasil)' },
  { code: 'it', name: 'Italiano' },
  { code: 'nl', name: 'Nederlands' },
  { code: 'pl', name: 'Polski' },
  { code: 'sv-SE', name: 'Svenska' },
  { code: 'da', name: 'Dansk' },
  { code: 'no', name: 'Norsk' },
  { code: 'fi', name: 'Suomi' },
  { code: 'cs', name: 'Čeština' },
  { code: 'hu', name: 'Magyar' },
  { code: 'ro', name: 'Română' },
  { code: 'hr', name: 'Hrvatski' },
  { code: 'lt', name: 'Lietuviškai' },
  { code: 'tr', name: 'Türkçe' },
  { code: 'el', name: 'Ελληνικά' },
  { code: 'bg', name: 'Български' },
  { code: 'ru', name: 'Русский' },
  { code: 'uk', name: 'Українська' },
  { code: 'hi', name: 'हिन्दी' },
  { code: 'th', name: 'ไทย' },
  { code: 'vi', name: 'Tiếng Việt' },
  { code: 'id', name: 'Bahasa Indonesia' },
  { code: 'ja', name: '日本語' },
  { code: 'zh-CN', name: '中文' },
  { code: 'zh-TW', name: '繁體中文' },
  { code: 'ko', name: '한국어' },
];

/** @throws UserFacingError unless `value` is one of LANGUAGES' codes (any case) or names. */
export function languageCode(value: string): string {
  const wanted = value.trim().toLowerCase();
  const found = LANGUAGES.find((l) => l.code.toLowerCase() === wanted || l.name.toLowerCase() === wanted);
  if (found === undefined) throw new UserFacingError('`language`: pick one of the suggested languages (for example `de` or `pt-BR`).');
  return found.code;
}

/** Languages whose code or name contains what was typed. */
export function languageChoices(typed: string): Array<{ name: string; value: string }> {
  const wanted = typed.trim().toLowerCase();
  return LANGUAGES.filter((l) => wanted === '' || l.code.toLowerCase().includes(wanted) || l.name.toLowerCase().includes(wanted))
    .slice(0, DiscordLimits.autocompleteChoices)
    .map((l) => ({ name: `${l.name} (${l.code})`, value: l.code }));
}

export async function answerLanguages(interaction: AutocompleteInteraction): Promise<void> {
  await interaction.respond(languageChoices(String(interaction.options.getFocused())));
}
