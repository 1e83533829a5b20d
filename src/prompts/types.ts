/**
 * Shared vocabulary of the prompt engine. The contract these types implement
 * is docs/prompt-repos.md.
 */

/** A repository as a source hands it over: every file of exactly one commit. */
export interface RawSnapshot {
  /** Commit SHA (GitHub) or a content hash (local directory). */
  commit: string;
  /** Repo-relative POSIX paths → file bytes. Symlinks and submodules are never included. */
  files: ReadonlyMap<string, Uint8Array>;
  /** Entries the source refused to include (symlinks, submodules, unsafe names), with reasons. */
  skipped: ReadonlyArray<{ path: string; reason: string }>;
}

/** Where a problem is, as precisely as we know it. Lines and columns are 1-based. */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
}

export type Severity = 'error' | 'warning';

export interface Problem extends SourceLocation {
  severity: Severity;
  /** A sentence an admin can act on. */
  message: string;
  /** Stable machine-readable code, e.g. `path.duplicate-key`. */
  code: string;
}

/**
 * What a request looks like to the router of a prompt repo. All values are
 * raw (unsanitized). Each field is a prompt variable of the same name: a new
 * field does not compile until `VARIABLES` (./variables.ts) reads it and
 * `promptContext()` (src/summaries/summary-context.ts) fills it.
 */
export interface PromptContext {
  guild_id?: string;
  guild_name?: string;
  channel_id?: string;
  channel_name?: string;
  category?: string;
  type?: string;
  perspective?: string;
  message_count?: number;
  date?: string;
  time_range?: string;
  locale?: string;
  user?: string;
}

/** Model parameters a prompt file's front matter may set. */
export interface ModelParameters {
  model?: string;
  provider?: string;
  temperature?: number;
  max_tokens?: number;
}

export type ResolutionLevel = 'custom' | 'cached' | 'default' | 'fallback';

export interface ResolvedPrompt {
  level: ResolutionLevel;
  /** `owner/name` of the guild repo, `bundled` for level 3, null for level 4. */
  repo: string | null;
  ref: string | null;
  commit: string | null;
  path: string | null;
  /** Every path tried, in order, across levels. */
  tried: string[];
  /** Why each earlier level was passed over. */
  reasons: Array<{ level: ResolutionLevel; reason: string }>;
  /** Age of the snapshot served at level 2, in ms. */
  staleAgeMs: number | null;
  /** Rendered system text. `{messages}` is replaced by a note pointing at the delimited conversation. */
  content: string;
  parameters: ModelParameters;
  description?: string;
  warnings: string[];
}
