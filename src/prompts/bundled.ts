import { resolve } from 'node:path';
import type { PromptLimits } from './limits.ts';
import type { ParsedRepo } from './parsed.ts';
import { parseSnapshot } from './snapshot.ts';
import { defaultSourceLimits } from './sources/source.ts';
import { readDirectorySnapshot } from './sources/local-dir-source.ts';
import type { Problem } from './types.ts';
import { messageOf } from '../log/error-message.ts';

interface LocalRepo {
  repo: ParsedRepo | null;
  problems: Problem[];
}

/**
 * Reads and validates a prompt repository on disk: the bundled `prompts/`
 * (level 3 of resolution) or an admin's working copy. Never throws for
 * content: a broken repo comes back as null with its problems.
 */
export async function loadLocalRepo(dir: string, limits: Partial<PromptLimits> = {}): Promise<LocalRepo> {
  try {
    const snapshot = await readDirectorySnapshot(resolve(dir), {
      maxFiles: limits.maxFiles ?? defaultSourceLimits.maxFiles,
      maxBytes: limits.snapshotBytes ?? defaultSourceLimits.maxBytes,
    });
    const parsed = parseSnapshot(snapshot, limits);
    return { repo: parsed.repo, problems: parsed.problems };
  } catch (error) {
    return {
      repo: null,
      problems: [{ file: dir, severity: 'error', code: 'repo.unreadable', message: messageOf(error) }],
    };
  }
}
