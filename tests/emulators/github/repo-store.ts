import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../../src/resilience/clock.ts';
import type { Changes, Commit, FileMap, FileSpec, Repository, TreeEntry } from './model.ts';
import { fullName, splitFullName } from './model.ts';

export interface CreateRepoOptions {
  files?: FileMap;
  private?: boolean;
  defaultBranch?: string;
  /** Tokens allowed to read the repository (needed when it is private). */
  tokens?: string[];
  message?: string;
}

/**
 * Repositories by case-insensitive `owner/name`, as GitHub looks them up.
 * Commit SHAs are sha1 over the tree, the parent and the message: the same
 * pushes give the same SHAs in every run.
 */
export class RepoStore {
  private readonly repos = new Map<string, Repository>();
  private nextId = 1000;

  constructor(private readonly clock: Clock) {}

  create(name: string, options: CreateRepoOptions = {}): Repository {
    const { owner, name: repoName } = splitFullName(name);
    const key = name.toLowerCase();
    if (this.repos.has(key)) throw new Error(`GitHub emulator: repository ${name} already exists`);
    const now = this.clock.now();
    const repo: Repository = {
      id: this.nextId++,
      owner,
      name: repoName,
      private: options.private ?? false,
      defaultBranch: options.defaultBranch ?? 'main',
      branches: new Map(),
      commits: new Map(),
      tokens: new Set(options.tokens ?? []),
      createdAt: now,
      pushedAt: now,
    };
    this.repos.set(key, repo);
    if (options.files !== undefined) this.push(name, repo.defaultBranch, options.files, options.message ?? 'Initial commit');
    return repo;
  }

  find(owner: string, name: string): Repository | undefined {
    return this.repos.get(`${owner}/${name}`.toLowerCase());
  }

  get(name: string): Repository {
    const { owner, name: repoName } = splitFullName(name);
    const repo = this.find(owner, repoName);
    if (repo === undefined) throw new Error(`GitHub emulator: no repository ${name}`);
    return repo;
  }

  all(): Repository[] {
    return [...this.repos.values()];
  }

  /**
   * Makes a new commit on `branch`: `files` replaces the whole tree,
   * `{ changes }` edits the branch's (or, for a new branch, the default
   * branch's) current tree. Returns the new SHA.
   */
  push(name: string, branch: string, files: FileMap | Changes, message = 'Update prompts'): string {
    const repo = this.get(name);
    const parentSha = repo.branches.get(branch) ?? repo.branches.get(repo.defaultBranch);
    const parent = parentSha === undefined ? undefined : repo.commits.get(parentSha);
    let tree: Map<string, TreeEntry>;
    if (isChanges(files)) {
      tree = new Map(parent?.tree ?? []);
      for (const [path, spec] of Object.entries(files.changes)) {
        if (spec === null) tree.delete(path);
        else tree.set(path, toEntry(spec));
      }
    } else {
      tree = new Map(Object.entries(files).map(([path, spec]) => [path, toEntry(spec)]));
    }
    const treeSha = hashTree(tree);
    const parents = parent ? [parent.sha] : [];
    const sha = sha1(`tree ${treeSha}\n${parents.map((p) => `parent ${p}\n`).join('')}\n${message}\n${repo.commits.size}`);
    const date = this.clock.now();
    repo.commits.set(sha, { sha, treeSha, tree, parents, message, date });
    repo.branches.set(branch, sha);
    repo.pushedAt = date;
    return sha;
  }

  /** Points `branch` at an existing commit, as `git push --force` of an older commit does. */
  forcePush(name: string, branch: string, sha: string): void {
    const repo = this.get(name);
    if (!repo.commits.has(sha)) throw new Error(`GitHub emulator: ${name} has no commit ${sha}`);
    repo.branches.set(branch, sha);
    repo.pushedAt = this.clock.now();
  }

  /** Head commit of a branch, or of the default branch. */
  head(name: string, branch?: string): string {
    const repo = this.get(name);
    const sha = repo.branches.get(branch ?? repo.defaultBranch);
    if (sha === undefined) throw new Error(`GitHub emulator: ${name} has no branch ${branch ?? repo.defaultBranch}`);
    return sha;
  }

  /**
   * What GitHub accepts where a `{ref}` goes: `HEAD`, a branch (also as
   * `refs/heads/x` or `heads/x`), a full SHA, or an unambiguous SHA prefix of
   * at least 7 characters.
   */
  resolve(repo: Repository, ref: string): Commit | undefined {
    const branch = ref === 'HEAD' ? repo.defaultBranch : ref.replace(/^(refs\/)?heads\//, '');
    const fromBranch = repo.branches.get(branch);
    if (fromBranch !== undefined) return repo.commits.get(fromBranch);
    if (/^[0-9a-f]{40}$/i.test(ref)) return repo.commits.get(ref.toLowerCase());
    if (/^[0-9a-f]{7,39}$/i.test(ref)) {
      const matches = [...repo.commits.keys()].filter((sha) => sha.startsWith(ref.toLowerCase()));
      return matches.length === 1 ? repo.commits.get(matches[0] as string) : undefined;
    }
    return undefined;
  }

  delete(name: string): void {
    this.repos.delete(this.keyOf(name));
  }

  /** Renames a repository; the old name answers 404 afterwards. */
  rename(from: string, to: string): void {
    const repo = this.get(from);
    const target = splitFullName(to);
    if (this.repos.has(to.toLowerCase())) throw new Error(`GitHub emulator: repository ${to} already exists`);
    this.repos.delete(this.keyOf(from));
    repo.owner = target.owner;
    repo.name = target.name;
    this.repos.set(fullName(repo).toLowerCase(), repo);
  }

  /** Re-reads a live directory repository and commits when its content changed. */
  async syncFromDisk(repo: Repository): Promise<void> {
    const live = repo.liveDirectory;
    if (live === undefined) return;
    const files = await readTreeFromDisk(live.dir);
    const tree = new Map(Object.entries(files).map(([path, spec]) => [path, toEntry(spec)]));
    const headSha = repo.branches.get(live.branch);
    const head = headSha === undefined ? undefined : repo.commits.get(headSha);
    if (head?.treeSha === hashTree(tree)) return;
    this.push(fullName(repo), live.branch, files, 'Changed on disk');
  }

  private keyOf(name: string): string {
    return name.toLowerCase();
  }
}

/**
 * Reads a directory into a FileMap the way `git add` would see it: `.git`
 * left out, symlinks kept as symlinks (not followed), executables marked.
 */
export async function readTreeFromDisk(dir: string): Promise<FileMap> {
  const files: FileMap = {};
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(join(dir, relative), { withFileTypes: true });
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name === '.git') continue;
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      const absolute = join(dir, path);
      if (entry.isSymbolicLink()) files[path] = { symlink: await readlink(absolute) };
      else if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) {
        const stat = await lstat(absolute);
        files[path] = { content: new Uint8Array(await readFile(absolute)), executable: (stat.mode & 0o111) !== 0 };
      }
    }
  };
  await walk('');
  return files;
}

/** Git's blob id: sha1 of `blob <length>\0<content>`. */
export function blobSha(content: Uint8Array): string {
  return createHash('sha1').update(`blob ${content.byteLength}\u0000`).update(content).digest('hex');
}

function toEntry(spec: FileSpec): TreeEntry {
  if (typeof spec === 'string') return { type: 'blob', content: new TextEncoder().encode(spec), executable: false };
  if (spec instanceof Uint8Array) return { type: 'blob', content: spec, executable: false };
  if ('symlink' in spec) return { type: 'symlink', target: spec.symlink };
  if ('submodule' in spec) {
    if (!/^[0-9a-f]{40}$/.test(spec.submodule)) throw new Error('GitHub emulator: a submodule needs a 40-hex commit');
    return { type: 'submodule', commit: spec.submodule, url: spec.url ?? 'https://github.com/example/submodule.git' };
  }
  const content = typeof spec.content === 'string' ? new TextEncoder().encode(spec.content) : spec.content;
  return { type: 'blob', content, executable: spec.executable ?? false };
}

function hashTree(tree: ReadonlyMap<string, TreeEntry>): string {
  const hash = createHash('sha1');
  for (const path of [...tree.keys()].sort()) {
    const entry = tree.get(path) as TreeEntry;
    const id = entry.type === 'blob' ? `${entry.executable ? '100755' : '100644'} ${blobSha(entry.content)}` : entry.type === 'symlink' ? `120000 ${entry.target}` : `160000 ${entry.commit}`;
    hash.update(`${path}\u0000${id}\n`);
  }
  return hash.digest('hex');
}

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/** `{ changes: {...} }` unless `changes` is itself a file spec (a file named "changes"). */
function isChanges(value: FileMap | Changes): value is Changes {
  const keys = Object.keys(value);
  const changes = (value as { changes?: unknown }).changes;
  if (keys.length !== 1 || typeof changes !== 'object' || changes === null || changes instanceof Uint8Array) return false;
  return !('content' in changes || 'symlink' in changes || 'submodule' in changes);
}
