/**
 * The composed engine for command-line use. The composition root (prompt
 * engine, router with plugins, database) is the lead's: `recap summarize`
 * receives it through `buildEngine`, which this file only declares.
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

// wired by the lead
export async function buildEngine(_ctx: CliContext, _options: EngineRuntimeOptions): Promise<EngineRuntime> {
  throw new Error('not wired');
}
