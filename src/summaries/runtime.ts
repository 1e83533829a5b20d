/**
 * The composed engine for command-line use, as `recap summarize` receives
 * it; src/cli/engine-runtime.ts builds it from the application's parts.
 */
import type { CliContext } from '../cli/command.ts';
import type { Summarizer } from './summarize.ts';

export interface EngineRuntimeOptions {
  /** A prompt repository: a local folder, or a GitHub URL. Absent: the guild's repo if configured, else the bundled prompts. */
  prompts?: string;
  /** Send every call to this provider only (e.g. `local` for an offline summary). */
  provider?: string;
}

export interface EngineRuntime {
  summarizer: Summarizer;
  /** Closes what `buildEngine` opened (database, plugins). */
  close(): Promise<void>;
}

export type BuildEngine = (ctx: CliContext, options: EngineRuntimeOptions) => Promise<EngineRuntime>;
