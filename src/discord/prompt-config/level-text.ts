import type { ResolutionLevel } from '../../prompts/types.ts';

/** What each level of the fallback chain means, in an admin's words. */
export const LEVEL_TEXT: Readonly<Record<ResolutionLevel, string>> = {
  custom: "**custom**: this server's repository, from a fresh snapshot",
  cached: "**cached**: this server's repository, from an older snapshot (GitHub could not confirm the newest)",
  default: '**default**: the prompts bundled with the bot',
  fallback: '**fallback**: the prompt compiled into the bot (no prompt file could be used)',
};
