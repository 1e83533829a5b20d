/**
 * The data model of the GitHub emulator: repositories made of commits, each
 * commit a full tree. Kept separate from the HTTP layer so tests and the CLI
 * can build repositories without thinking about routes.
 */

/** A file as a test writes it: text, bytes, or a special entry. */
export type FileSpec =
  | string
  | Uint8Array
  | { content: string | Uint8Array; executable?: boolean }
  | { symlink: string }
  | { submodule: string; url?: string };

/** Repo-relative path → file, the whole tree of a commit. */
export type FileMap = Record<string, FileSpec>;

/** Paths to change in the parent commit; `null` deletes. */
export interface Changes {
  changes: Record<string, FileSpec | null>;
}

export type TreeEntry =
  | { type: 'blob'; content: Uint8Array; executable: boolean }
  | { type: 'symlink'; target: string }
  | { type: 'submodule'; commit: string; url: string };

export interface Commit {
  sha: string;
  treeSha: string;
  tree: ReadonlyMap<string, TreeEntry>;
  parents: string[];
  message: string;
  /** ms since epoch, by the emulator's clock. */
  date: number;
}

export interface Repository {
  id: number;
  owner: string;
  name: string;
  private: boolean;
  defaultBranch: string;
  branches: Map<string, string>;
  commits: Map<string, Commit>;
  /** Tokens that can read this repository when it is private. */
  tokens: Set<string>;
  createdAt: number;
  pushedAt: number;
  /** Set for repositories served from a directory that is re-read on every request. */
  liveDirectory?: { dir: string; branch: string };
}

export function fullName(repo: Pick<Repository, 'owner' | 'name'>): string {
  return `${repo.owner}/${repo.name}`;
}

/** Splits `owner/name`, refusing anything else (emulator setup errors should be loud). */
export function splitFullName(name: string): { owner: string; name: string } {
  const parts = name.split('/');
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
    throw new Error(`GitHub emulator: expected "owner/name", got "${name}"`);
  }
  return { owner: parts[0] as string, name: parts[1] as string };
}
