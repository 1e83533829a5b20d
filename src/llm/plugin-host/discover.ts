/**
 * Finds plugin folders: every `<pluginsDir>/<name>/plugin.yaml`. A folder
 * whose manifest is broken is still reported (with its problems) so the
 * operator sees it in the status list instead of it silently vanishing.
 */
import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { PluginManifest } from './types.ts';
import { MAX_MANIFEST_BYTES, parseManifest } from './manifest.ts';
import type { ConfigProblem } from './problems.ts';
import { PluginConfigError } from './problems.ts';

const MANIFEST_FILE = 'plugin.yaml';

export interface DiscoveredPlugin {
  /** The folder name (equals `manifest.name` when the manifest is valid). */
  name: string;
  /** Absolute path of the plugin folder. */
  dir: string;
  /** The manifest's path as shown in messages. */
  manifestFile: string;
  manifest?: PluginManifest;
  problems: ConfigProblem[];
}

interface DiscoverOptions {
  pluginsDir: string;
  /** File names in messages are relative to this directory. */
  displayRoot: string;
}

export async function discoverPlugins(options: DiscoverOptions): Promise<DiscoveredPlugin[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(options.pluginsDir, { withFileTypes: true });
  } catch (error) {
    const file = path.relative(options.displayRoot, options.pluginsDir) || options.pluginsDir;
    throw new PluginConfigError([{ file, message: `cannot read the plugins folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` }]);
  }
  const folders = entries
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.') && !entry.name.startsWith('_'))
    .map((entry) => entry.name)
    .sort();

  const found: DiscoveredPlugin[] = [];
  for (const folder of folders) {
    const dir = path.join(options.pluginsDir, folder);
    const manifestPath = path.join(dir, MANIFEST_FILE);
    const manifestFile = path.relative(options.displayRoot, manifestPath) || manifestPath;
    let text: string;
    try {
      const bytes = await readFile(manifestPath);
      if (bytes.length > MAX_MANIFEST_BYTES) {
        found.push({ name: folder, dir, manifestFile, problems: [{ file: manifestFile, message: `manifest is larger than ${MAX_MANIFEST_BYTES} bytes` }] });
        continue;
      }
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch (error) {
      // A folder without a manifest is not a plugin (e.g. shared helpers); anything else is reported.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      const reason = error instanceof TypeError ? 'is not valid UTF-8' : `cannot be read (${(error as Error).message})`;
      found.push({ name: folder, dir, manifestFile, problems: [{ file: manifestFile, message: `manifest ${reason}` }] });
      continue;
    }
    const result = parseManifest(text, manifestFile, folder);
    found.push(
      result.ok
        ? { name: folder, dir, manifestFile, manifest: result.manifest, problems: [] }
        : { name: folder, dir, manifestFile, problems: result.problems },
    );
  }
  return found;
}
