import { adminCheck } from '../shared/access.ts';

/** The Manage Server check every /ai-config handler makes; returns the guild id. */
export const requireAiAdmin = adminCheck({ command: '/ai-config', subject: "this server's AI settings" });
