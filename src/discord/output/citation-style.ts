/**
 * How citations look in Discord: each cited number becomes a jump link to
 * its message, `[[12]](https://discord.com/channels/…)`. This is the one
 * place to change that look; `renderCitations` applies it.
 */
import type { CitationStyle } from '../../summaries/citation-render.ts';

const JUMP_URL = /^https:\/\/discord\.com\/channels\/(?:\d{1,20}|@me)\/\d{1,20}\/\d{1,20}$/;

export const discordCitationStyle: CitationStyle = {
  // Only Discord message links: a hostile stored citation cannot smuggle another URL in.
  link: ({ ref, jumpUrl }) => (jumpUrl !== undefined && JUMP_URL.test(jumpUrl) ? `[[${ref}]](${jumpUrl})` : undefined),
};
