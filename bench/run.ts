/**
 * `npm run bench -- <name> [args]`: runs bench/<name>.ts. Every figure is
 * printed on its own line as `figure-name: value unit`, so runs can be
 * compared with a diff or a grep.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

const here = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();

const [name, ...args] = process.argv.slice(2);
if (name === undefined || name === '--help') {
  process.stdout.write(`Usage: npm run bench -- <name> [args]\n\nBenchmarks: ${available.join(', ')}\n`);
  process.exit(name === undefined ? 2 : 0);
}
if (!available.includes(name)) {
  process.stderr.write(`unknown benchmark "${name}"; available: ${available.join(', ')}\n`);
  process.exit(2);
}
const module = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as { run(args: string[]): Promise<void> };
await module.run(args);
