import { adminCheck } from '../shared/access.ts';

/** The Manage Server check every /prompt-config handler makes; returns the guild id. */
export const requireGuildAdmin = adminCheck({ command: '/prompt-config', subject: 'the prompt repository' });
