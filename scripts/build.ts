/**
 * `npm run build`: compiles src/, plugins/ and migrations/ to dist/ one file
 * per module (tsc, tsconfig.build.json), so dist/ mirrors the repository and
 * every path the code finds relative to itself (plugins/, prompts/) resolves
 * the same from dist/ as from the sources. Then copies what the code reads
 * at run time but tsc does not emit: each plugin's manifest, its entry renamed
 * to the compiled .js, and the bundled prompts; and writes the migrated
 * database a fresh embedded directory starts from (src/db/pglite-template.ts).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseDocument } from 'yaml';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'dist');

/** `index.ts` → `index.js`, as tsc names its output. */
function compiledEntry(entry: string): string {
  return entry.replace(/\.ts$/, '.js').replace(/\.mts$/, '.mjs');
}

function compile(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write('build: tsc failed\n');
    process.exit(result.status ?? 1);
  }
}

function copyPluginManifests(): void {
  const plugins = join(root, 'plugins');
  for (const name of readdirSync(plugins)) {
    const manifest = join(plugins, name, 'plugin.yaml');
    if (!existsSync(manifest)) continue;
    const doc = parseDocument(readFileSync(manifest, 'utf8'));
    const entry = doc.get('entry');
    if (typeof entry === 'string') doc.set('entry', compiledEntry(entry));
    writeFileSync(join(dist, 'plugins', name, 'plugin.yaml'), doc.toString());
  }
}

rmSync(dist, { recursive: true, force: true });
compile();
copyPluginManifests();
cpSync(join(root, 'prompts'), join(dist, 'prompts'), { recursive: true });
// The dashboard's stylesheet and chart script, served as files (src/web/static-files.ts).
cpSync(join(root, 'src/web/static'), join(dist, 'src/web/static'), { recursive: true });
// package.json's "bin" files run through their shebang; npm makes them executable when it installs, this does it for the checkout.
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
for (const file of Object.values(manifest.bin ?? {})) chmodSync(join(root, file), 0o755);
// With the compiled migrations, so the template's key is the one dist/ computes at run time.
const { writeTemplate } = (await import(pathToFileURL(join(dist, 'src/db/pglite-template.js')).href)) as typeof import('../src/db/pglite-template.ts');
writeTemplate(join(dist, 'pglite-template')).then(
  (file) => process.stdout.write(`build: ${file.slice(root.length + 1)}\n`),
  (error: unknown) => {
    process.stderr.write(`build: could not write the database template: ${String(error)}\n`);
    process.exit(1);
  },
);
