/**
 * Plugins whose factory refused their settings (a PluginSettingsError). A
 * config that leaves an enabled plugin out this way is refused as a whole, so
 * a reload keeps the running set and start-up stops, instead of quietly
 * running without the plugin. A plugin marked `optional: true` in the config
 * is only warned about.
 */
import type { ConfigDocument } from './config-file.ts';
import type { PluginSet } from './plugin-set.ts';
import type { ConfigProblem } from './problems.ts';
import type { PluginLogger } from './types.ts';

export function settingsRefusals(set: PluginSet, doc: ConfigDocument, logger: PluginLogger): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const plugin of set.plugins) {
    const error = plugin.settingsError;
    if (!error) continue;
    if (doc.config.plugins[plugin.name]?.optional === true) {
      logger.warn({ plugin: plugin.name, reason: error.message }, 'optional plugin refused its settings; running without it');
      continue;
    }
    for (const issue of error.issues) {
      const where = locateSetting(doc, plugin.name, issue.path);
      const setting = issue.path.map(String).join('.');
      problems.push({ file: doc.file, ...where, message: `${plugin.name}: ${setting ? `${setting}: ` : ''}${issue.message}` });
    }
  }
  return problems;
}

/** The line of the deepest part of the path the YAML has (a missing field points at the entry that lacks it). */
function locateSetting(doc: ConfigDocument, plugin: string, settingPath: readonly PropertyKey[]): { line?: number } {
  for (let length = settingPath.length; length >= 0; length -= 1) {
    const found = doc.locate(['plugins', plugin, 'config', ...settingPath.slice(0, length)]);
    if (found) return { line: found.line };
  }
  const entry = doc.locate(['plugins', plugin], 'key');
  return entry ? { line: entry.line } : {};
}
