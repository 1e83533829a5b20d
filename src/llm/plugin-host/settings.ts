/**
 * A plugin's settings from the config file, checked against the `config:`
 * block of its manifest: unknown names and wrong types are errors, defaults
 * fill the gaps, required settings must be present.
 */
import type { PluginManifest } from './types.ts';
import { matchesType } from './manifest.ts';
import { typeName } from './problems.ts';

interface SettingProblem {
  /** The setting's name, or undefined for a problem with the whole block. */
  setting?: string;
  message: string;
}

export function resolveSettings(
  manifest: PluginManifest,
  raw: Readonly<Record<string, unknown>>,
): { settings: Record<string, unknown>; problems: SettingProblem[] } {
  const problems: SettingProblem[] = [];
  const known = Object.keys(manifest.config);
  const settings: Record<string, unknown> = {};

  for (const [name, value] of Object.entries(raw)) {
    const spec = manifest.config[name];
    if (!spec) {
      const accepted = known.length > 0 ? `known settings: ${known.join(', ')}` : 'it accepts no settings';
      problems.push({ setting: name, message: `plugin "${manifest.name}": unknown setting "${name}" (${accepted})` });
      continue;
    }
    if (!matchesType(value, spec.type)) {
      // Only the type is named: the value may be a substituted secret.
      problems.push({
        setting: name,
        message: `plugin "${manifest.name}": setting "${name}" must be ${spec.type === 'array' || spec.type === 'object' ? 'an' : 'a'} ${spec.type} (got ${typeName(value)})`,
      });
      continue;
    }
    settings[name] = value;
  }

  for (const [name, spec] of Object.entries(manifest.config)) {
    if (name in settings || problems.some((problem) => problem.setting === name)) continue;
    if (spec.default !== undefined) settings[name] = structuredClone(spec.default);
    else if (spec.required) problems.push({ message: `plugin "${manifest.name}": setting "${name}" is required` });
  }
  return { settings, problems };
}
