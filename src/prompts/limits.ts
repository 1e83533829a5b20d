/**
 * Size and shape limits applied to a guild's prompt repository. The defaults
 * are the contract's (docs/prompt-repos.md); each can be tuned.
 */
export interface PromptLimits {
  /** Bytes of the PATH file; over it the repo fails validation. */
  pathFileBytes: number;
  /** Routes in the PATH file; over it the repo fails validation. */
  maxRoutes: number;
  /** Characters of one route pattern; over it the repo fails validation. */
  patternChars: number;
  /** UTF-8 bytes of one prompt after includes; over it that file is skipped. */
  promptBytes: number;
  /**
   * Pieces of one prompt after includes: literal runs, variables and include
   * markers, each counted where it is inserted. Over it that file is skipped.
   * A 50 KiB prompt has at most about 35,000 (a `{name}` every 3 bytes).
   */
  promptSegments: number;
  /**
   * Variables one prompt uses after includes, each use counted. A value
   * renders as up to 200 characters, so this bounds what one render of a
   * 50 KiB prompt can grow to (17,000 `{x}` would be 3.4 MB per request).
   */
  promptVariables: number;
  /**
   * UTF-8 bytes of all compiled prompts of one snapshot together, after
   * includes. Prompts compiled after it is reached are skipped (in path
   * order). Twice `snapshotBytes`: a repository without includes never
   * reaches it, while 2,000 files that each include the same 50 KiB (100 MiB
   * held in memory once compiled) do.
   */
  snapshotExpandedBytes: number;
  /** Pieces (as in `promptSegments`) of all compiled prompts of one snapshot together. */
  snapshotExpandedSegments: number;
  /** Bytes of a prompt file's front matter block. */
  frontMatterBytes: number;
  /**
   * Bytes of front matter read across one snapshot. Hostile YAML costs far
   * more per byte than prompt text (about 1 MB/s), so 2,000 files of 8 KiB
   * would take tens of seconds; ordinary front matter is a few hundred bytes
   * a file (2,000 files of 250 bytes fit). Files whose front matter comes
   * after it is spent are skipped, in path order.
   */
  snapshotFrontMatterBytes: number;
  /** Files in one snapshot; over it the repo fails validation. */
  maxFiles: number;
  /** Total bytes of one snapshot; over it the repo fails validation. */
  snapshotBytes: number;
  /** Nesting depth of any YAML document (PATH, front matter). */
  yamlMaxDepth: number;
  /** Alias nodes in any YAML document: a few are fine, many is a bomb. */
  yamlMaxAliases: number;
  /** How deep `{> include}` may nest. */
  includeDepth: number;
  /** Warnings about unknown `{names}` reported per file before they are summarized. */
  unknownVariableWarnings: number;
  /**
   * Steps spent matching route patterns against a snapshot's file names (a
   * step: one character or position of a name looked at for one part of a
   * pattern). Ordinary repositories use a few per file and route, so even
   * 500 routes over 2,000 files stay far below; over it the repo fails
   * validation, naming the route being matched.
   */
  routeMatchSteps: number;
  /** Distinct request contexts whose routing a parsed repo remembers. */
  routeMemoEntries: number;
}

export const DEFAULT_PROMPT_LIMITS: Readonly<PromptLimits> = Object.freeze({
  pathFileBytes: 64 * 1024,
  maxRoutes: 500,
  patternChars: 500,
  promptBytes: 50 * 1024,
  promptSegments: 50_000,
  promptVariables: 2_000,
  snapshotExpandedBytes: 20 * 1024 * 1024,
  snapshotExpandedSegments: 2_000_000,
  frontMatterBytes: 8 * 1024,
  snapshotFrontMatterBytes: 512 * 1024,
  maxFiles: 2_000,
  snapshotBytes: 10 * 1024 * 1024,
  yamlMaxDepth: 16,
  yamlMaxAliases: 32,
  includeDepth: 5,
  unknownVariableWarnings: 20,
  routeMatchSteps: 50_000_000,
  routeMemoEntries: 512,
});

/** The defaults overlaid with whatever the caller set (undefined entries keep the default). */
export function resolveLimits(overrides?: Partial<PromptLimits>): PromptLimits {
  const limits: PromptLimits = { ...DEFAULT_PROMPT_LIMITS };
  if (overrides === undefined) return limits;
  for (const key of Object.keys(limits) as Array<keyof PromptLimits>) {
    const value = overrides[key];
    if (value === undefined) continue;
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`prompt limit ${key} must be a non-negative number, got ${String(value)}`);
    }
    limits[key] = value;
  }
  // An operator who allows larger snapshots gets the compiled-prompt budget to match.
  if (overrides.snapshotExpandedBytes === undefined) {
    limits.snapshotExpandedBytes = Math.max(DEFAULT_PROMPT_LIMITS.snapshotExpandedBytes, 2 * limits.snapshotBytes);
  }
  return limits;
}
