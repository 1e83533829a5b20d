import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { orderByDependencies } from '../../src/llm/plugin-host/dependency-order.ts';
import { discoverPlugins } from '../../src/llm/plugin-host/discover.ts';
import { parseManifest } from '../../src/llm/plugin-host/manifest.ts';
import { formatProblem } from '../../src/llm/plugin-host/problems.ts';

const FILE = 'plugins/foo/plugin.yaml';

function errorsOf(text: string, folder = 'foo'): string[] {
  const result = parseManifest(text, FILE, folder);
  if (result.ok) throw new Error('expected the manifest to be rejected');
  return result.problems.map(formatProblem);
}

const VALID = ['name: foo', 'version: 1.2.3', 'kind: provider', 'entry: index.ts'].join('\n');

describe('parseManifest', () => {
  it('accepts a minimal manifest and fills the defaults', () => {
    const result = parseManifest(VALID, FILE, 'foo');
    expect(result).toEqual({
      ok: true,
      manifest: { name: 'foo', version: '1.2.3', kind: 'provider', entry: 'index.ts', host: '>=1 <2', requires: [], config: {}, secrets: [], enabled_by_default: false, enabled_by_env: [], env_settings: {}, roles: [] },
    });
  });

  it('names the file, line, column and allowed values for an unknown kind', () => {
    expect(errorsOf(VALID.replace('kind: provider', 'kind: provder'))).toEqual([
      'plugins/foo/plugin.yaml:3:7: field "kind" must be one of provider, processor, hooks (got "provder")',
    ]);
  });

  it('reports a missing field at the mapping that lacks it', () => {
    expect(errorsOf(VALID.replace('version: 1.2.3\n', ''))).toEqual(['plugins/foo/plugin.yaml:1:1: field "version" is required']);
  });

  it('rejects a bad name and a name that differs from the folder', () => {
    expect(errorsOf(VALID.replace('name: foo', 'name: Foo_Bar'))[0]).toBe(
      'plugins/foo/plugin.yaml:1:7: field "name" must be a lowercase identifier (a-z, 0-9 and "-", starting with a letter) (got "Foo_Bar")',
    );
    expect(errorsOf(VALID, 'bar')).toEqual([
      'plugins/foo/plugin.yaml:1:7: field "name" ("foo") must equal the plugin folder\'s name "bar"',
    ]);
  });

  it('rejects unknown fields, so typos are not silently ignored', () => {
    expect(errorsOf(`${VALID}\nrequries: [bar]`)).toEqual(['plugins/foo/plugin.yaml:5:1: unknown field "requries"']);
  });

  it('checks nested config specs, including that a default fits its type', () => {
    const errors = errorsOf(`${VALID}\nconfig:\n  timeout_ms: { type: int }\n  retries: { type: number, default: "3" }`);
    expect(errors).toEqual([
      'plugins/foo/plugin.yaml:6:23: field "config.timeout_ms.type" must be one of string, number, boolean, array, object (got "int")',
      'plugins/foo/plugin.yaml:7:37: field "config.retries.default" must be of the declared type number (got "3")',
    ]);
  });

  it('reads what a plugin offers the host: env switches, env settings, a default route per task, roles', () => {
    const text = [
      VALID,
      'config:',
      '  base_url: { type: string }',
      'enabled_by_env: [FOO_API_KEY, FOO_BASE_URL]',
      'env_settings: { base_url: FOO_BASE_URL }',
      'default_route:',
      '  model_env: FOO_MODEL',
      '  models: { summarize: foo-large, chat: foo-small }',
    ].join('\n');
    const result = parseManifest(text, FILE, 'foo');
    if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
    expect(result.manifest).toMatchObject({
      enabled_by_default: false,
      enabled_by_env: ['FOO_API_KEY', 'FOO_BASE_URL'],
      env_settings: { base_url: 'FOO_BASE_URL' },
      default_route: { rank: 50, model_env: 'FOO_MODEL', models: { summarize: 'foo-large', chat: 'foo-small' } },
      roles: [],
    });
  });

  it.each([
    [
      'an env setting the config does not declare',
      `${VALID}\nenv_settings: { base_url: FOO_BASE_URL }`,
      'plugins/foo/plugin.yaml:5:27: field "env_settings.base_url" names setting "base_url", which "config" does not declare (got "FOO_BASE_URL")',
    ],
    [
      'an env setting that is a list',
      `${VALID}\nconfig: { models: { type: array } }\nenv_settings: { models: FOO_MODELS }`,
      'plugins/foo/plugin.yaml:6:25: field "env_settings.models" setting "models" is an array; a variable can fill only a string, number or boolean (got "FOO_MODELS")',
    ],
    ['a bad variable name', `${VALID}\nenabled_by_env: [foo-key]`, 'plugins/foo/plugin.yaml:5:18: field "enabled_by_env.0" must be an environment variable name (got "foo-key")'],
    [
      'a default route for a task the router does not know',
      `${VALID}\ndefault_route: { models: { digest: foo-1 } }`,
      'plugins/foo/plugin.yaml:5:28: unknown field "default_route.models.digest"',
    ],
    [
      'a default route on a processor',
      `${VALID.replace('kind: provider', 'kind: processor')}\ndefault_route: { models: { chat: foo-1 } }`,
      'plugins/foo/plugin.yaml:5:16: field "default_route" only a provider plugin can have a default route (got {"models":{"chat":"foo-1"}})',
    ],
    [
      'the PII role on a provider',
      `${VALID}\nroles: [pii-processor]`,
      'plugins/foo/plugin.yaml:5:8: field "roles" role "pii-processor" needs kind "processor" (got ["pii-processor"])',
    ],
    ['an unknown role', `${VALID.replace('kind: provider', 'kind: processor')}\nroles: [spam-filter]`, 'plugins/foo/plugin.yaml:5:9: field "roles.0" must be one of pii-processor (got "spam-filter")'],
  ])('rejects %s', (_what, text, message) => {
    expect(errorsOf(text)).toEqual([message]);
  });

  it('keeps the entry inside the plugin folder', () => {
    expect(errorsOf(VALID.replace('entry: index.ts', 'entry: ../other/index.ts'))[0]).toContain(
      'field "entry" must not leave the plugin folder ("..")',
    );
    expect(errorsOf(VALID.replace('entry: index.ts', 'entry: /etc/passwd.js'))[0]).toContain('must be a relative POSIX path');
  });

  it('reports YAML syntax errors with their position, and rejects non-mappings', () => {
    expect(errorsOf('name: foo\nname: foo\n')[0]).toMatch(/^plugins\/foo\/plugin\.yaml:2:1: invalid YAML: Map keys must be unique/);
    expect(errorsOf('- just\n- a list\n')).toEqual(['plugins/foo/plugin.yaml:1:1: manifest must be a YAML mapping (got array)']);
  });

  it('refuses alias bombs', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(8).fill(`*${'abcdefg'[i]}`).join(', ')}]`)].join('\n');
    expect(errorsOf(bomb)[0]).toMatch(/invalid YAML: .*alias/i);
  });
});

describe('orderByDependencies', () => {
  it('puts dependencies first and keeps input order otherwise', () => {
    const { order, failures } = orderByDependencies([
      { name: 'gamma', requires: ['beta'] },
      { name: 'alpha', requires: [] },
      { name: 'beta', requires: ['alpha'] },
      { name: 'zeta', requires: [] },
    ]);
    expect(order).toEqual(['alpha', 'beta', 'gamma', 'zeta']);
    expect(failures.size).toBe(0);
  });

  it('names a cycle starting from its alphabetically first member', () => {
    const { failures, order } = orderByDependencies([
      { name: 'c', requires: ['a'] },
      { name: 'a', requires: ['b'] },
      { name: 'b', requires: ['c'] },
      { name: 'd', requires: ['b'] },
    ]);
    expect(Object.fromEntries(failures)).toEqual({
      a: 'dependency cycle a → b → c → a',
      b: 'dependency cycle a → b → c → a',
      c: 'dependency cycle a → b → c → a',
    });
    expect(order).toContain('d');
  });

  it('names a missing dependency and why it is unavailable', () => {
    const { failures } = orderByDependencies([{ name: 'x', requires: ['ghost', 'off'] }], (name) =>
      name === 'off' ? 'is not enabled' : 'is not installed',
    );
    expect(failures.get('x')).toBe('requires "ghost", which is not installed; requires "off", which is not enabled');
  });
});

describe('discoverPlugins', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lists plugin folders in name order, keeps broken ones with their problems, ignores folders without a manifest', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'plugins-'));
    await mkdir(path.join(dir, 'zed'));
    await writeFile(path.join(dir, 'zed', 'plugin.yaml'), VALID.replace('foo', 'zed'));
    await mkdir(path.join(dir, 'alpha'));
    await writeFile(path.join(dir, 'alpha', 'plugin.yaml'), VALID.replace('kind: provider', 'kind: nope'));
    await mkdir(path.join(dir, 'helpers'));
    await mkdir(path.join(dir, '.hidden'));
    await writeFile(path.join(dir, 'latin1'), 'not a folder');
    await mkdir(path.join(dir, 'latin1-dir'));
    await writeFile(path.join(dir, 'latin1-dir', 'plugin.yaml'), Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xe9]));

    const found = await discoverPlugins({ pluginsDir: dir, displayRoot: dir });
    expect(found.map((plugin) => [plugin.name, plugin.manifest?.kind ?? null, plugin.problems.map(formatProblem)])).toEqual([
      ['alpha', null, ['alpha/plugin.yaml:3:7: field "kind" must be one of provider, processor, hooks (got "nope")']],
      ['latin1-dir', null, ['latin1-dir/plugin.yaml: manifest is not valid UTF-8']],
      ['zed', 'provider', []],
    ]);
  });
});
