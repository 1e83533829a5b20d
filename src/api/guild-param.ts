import type { ApiKeyInfo } from './api-keys.ts';
import { problem, ProblemError } from './problem.ts';

/** A key serves its own guild only. */
export function requireOwnGuild(guildId: string, key: ApiKeyInfo): string {
  if (guildId !== key.guildId) throw new ProblemError(problem(403, 'wrong-guild', 'This key belongs to another server.'));
  return guildId;
}
