/**
 * The version of what the host offers plugins: the manifest fields, the
 * factory's context and the shapes it accepts back (./types.ts). A plugin's
 * manifest states the range it was written for (`host: ">=1 <2"`); a major
 * bump here is a change that can break plugins; a minor bump adds
 * something a plugin may use (1.1: the summary, chat and prompt hook points
 * and `ctx.notices`), so a plugin that needs it states `host: ">=1.1 <2"`.
 */
import semver from 'semver';

export const HOST_API_VERSION = '1.1.0';

/** What a manifest without `host:` is taken to support: the API the field arrived with. */
export const DEFAULT_HOST_RANGE = '>=1 <2';

/** Undefined when the range admits this host; otherwise why not, naming the plugin, its range and the host's version. */
export function hostApiMismatch(plugin: string, range: string): string | undefined {
  if (semver.satisfies(HOST_API_VERSION, range)) return undefined;
  return `plugin "${plugin}" supports host API "${range}", but this host's API is ${HOST_API_VERSION}`;
}
