/**
 * Version ranges in manifests: `host:` against the host API version, and
 * `requires` entries with a semver range against the installed plugin's
 * version, through the real host loading real plugin folders.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HOST_API_VERSION } from '../../src/llm/plugin-host/host-api.ts';
import { PluginHost } from '../../src/llm/plugin-host/host.ts';
import { parseManifest } from '../../src/llm/plugin-host/manifest.ts';
import { formatProblem } from '../../src/llm/plugin-host/problems.ts';
import type { PluginLogger } from '../../src/llm/plugin-host/types.ts';

const NOOP_HOOKS = path.join(import.meta.dirname, 'fixtures', 'shared', 'noop-hooks.ts');
const FILE = 'plugins/foo/plugin.yaml';
const VALID = ['name: foo', 'version: 1.2.3', 'kind: hooks', 'entry: index.ts'].join('\n');
const quiet: PluginLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

describe('manifest version fields', () => {
  it('reads requires by plain name and with a range, and takes a missing host range as API 1', () => {
    const result = parseManifest(`${VALID}\nrequires:\n  - bar\n  - { plugin: pii-redactor, version: ">=1 <2" }`, FILE, 'foo');
    expect(result.ok && result.manifest.requires).toEqual([
      { plugin: 'bar', version: '*' },
      { plugin: 'pii-redactor', version: '>=1 <2' },
    ]);
    expect(result.ok && result.manifest.host).toBe('>=1 <2');
  });

  it('names the line of a range that is not semver, in requires and in host', () => {
    const result = parseManifest(`${VALID}\nhost: "version one"\nrequires:\n  - { plugin: bar, version: "newest" }`, FILE, 'foo');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map(formatProblem)).toEqual([
      'plugins/foo/plugin.yaml:5:7: field "host" must be a semver range such as ">=1 <2" or "^1.2" (got "version one")',
      'plugins/foo/plugin.yaml:7:29: field "requires.0.version" must be a semver range such as ">=1 <2" or "^1.2" (got "newest")',
    ]);
  });

  it('refuses the same plugin required twice', () => {
    const result = parseManifest(`${VALID}\nrequires: [bar, { plugin: bar, version: "^1" }]`, FILE, 'foo');
    expect(!result.ok && result.problems.map((p) => p.message)).toEqual(['field "requires.1" names "bar" twice (got {"plugin":"bar","version":"^1"})']);
  });
});

describe('version checks at load', () => {
  let dir: string;
  const hosts: PluginHost[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'plugin-versions-'));
  });
  afterEach(async () => {
    for (const host of hosts.splice(0)) await host.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function plugin(name: string, version: string, extra = ''): Promise<void> {
    await mkdir(path.join(dir, 'plugins', name), { recursive: true });
    await writeFile(path.join(dir, 'plugins', name, 'plugin.yaml'), `name: ${name}\nversion: ${version}\nkind: hooks\nentry: index.ts\n${extra}`);
    await writeFile(path.join(dir, 'plugins', name, 'index.ts'), `export { default } from ${JSON.stringify(NOOP_HOOKS)};\n`);
  }

  async function statesOf(names: string[]): Promise<Record<string, { state: string; reason?: string }>> {
    const configPath = path.join(dir, 'plugins.yaml');
    await writeFile(configPath, `plugins:\n${names.map((name) => `  ${name}: {}\n`).join('')}`);
    const host = await PluginHost.start({ pluginsDir: path.join(dir, 'plugins'), env: {}, logger: quiet, configPath, displayRoot: dir });
    hosts.push(host);
    const statuses = await host.statuses();
    return Object.fromEntries(statuses.map((s) => [s.name, { state: s.state, ...(s.reason ? { reason: s.reason } : {}) }]));
  }

  it('refuses a plugin written for another host API, naming its range and the host version; its dependents fail with it', async () => {
    await plugin('future', '3.0.0', 'host: ">=2 <3"\n');
    await plugin('current', '1.0.0', 'host: "^1"\nrequires: [future]\n');
    expect(await statesOf(['future', 'current'])).toEqual({
      future: { state: 'error', reason: `plugin "future" supports host API ">=2 <3", but this host's API is ${HOST_API_VERSION}` },
      current: { state: 'error', reason: `dependency "future" is not active (plugin "future" supports host API ">=2 <3", but this host's API is ${HOST_API_VERSION})` },
    });
  });

  it('loads dependents whose range the installed version meets, and names the versions when it does not', async () => {
    await plugin('base', '1.4.0');
    await plugin('plain', '1.0.0', 'requires: [base]\n');
    await plugin('ranged', '1.0.0', 'requires: [{ plugin: base, version: "^1.2" }]\n');
    await plugin('too-new', '1.0.0', 'requires: [{ plugin: base, version: ">=2 <3" }]\n');
    expect(await statesOf(['base', 'plain', 'ranged', 'too-new'])).toEqual({
      base: { state: 'active' },
      plain: { state: 'active' },
      ranged: { state: 'active' },
      'too-new': { state: 'error', reason: 'requires "base" version ">=2 <3", but base 1.4.0 is installed' },
    });
  });
});
