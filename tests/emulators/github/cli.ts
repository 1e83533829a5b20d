/**
 * Runs the GitHub emulator by hand:
 *
 *   npm run emulator:github -- --port 8787 --repo acme/prompts=./prompts@main --token acme/prompts=ghp_test
 *
 * `--repo owner/name=<dir>[@branch]` serves a directory, re-read on every
 * request (edit files, refresh, get a new commit). `--token owner/name=<t>`
 * makes that repository private, readable with `token <t>`. `--app <id>=owner/name,...`
 * installs a GitHub App on repositories. Prints the base URL to use as GITHUB_API_URL.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { GitHubEmulator } from './server.ts';

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: emulator:github -- [--port N] [--host H] --repo owner/name=<dir>[@branch] [--token owner/name=<token>] [--app <id>=owner/name[,owner/name]] [--anonymous-quota N]\n`);
  process.exit(2);
}

function splitAssignment(value: string, flag: string): [string, string] {
  const at = value.indexOf('=');
  if (at <= 0 || at === value.length - 1) usage(`${flag} expects name=value, got "${value}"`);
  return [value.slice(0, at), value.slice(at + 1)];
}

/** `dir@branch`: the branch is what follows the last `@`, unless the whole thing is an existing path. */
function splitDirBranch(spec: string): { dir: string; branch: string } {
  const at = spec.lastIndexOf('@');
  if (at > 0 && !existsSync(spec)) return { dir: spec.slice(0, at), branch: spec.slice(at + 1) };
  return { dir: spec, branch: 'main' };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      repo: { type: 'string', multiple: true, default: [] },
      token: { type: 'string', multiple: true, default: [] },
      app: { type: 'string', multiple: true, default: [] },
      'anonymous-quota': { type: 'string' },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`--port must be a port number, got "${values.port}"`);
  const anonymousQuota = values['anonymous-quota'] === undefined ? 100_000 : Number(values['anonymous-quota']);

  // By hand, 60 anonymous requests an hour is more hindrance than realism.
  const emulator = new GitHubEmulator({ host: values.host, port, quota: { anonymous: anonymousQuota } });
  const tokens = new Map(values.token.map((entry) => splitAssignment(entry, '--token')));
  for (const entry of values.repo) {
    const [name, spec] = splitAssignment(entry, '--repo');
    const { dir, branch } = splitDirBranch(spec);
    const absolute = resolve(dir);
    if (!existsSync(absolute)) usage(`--repo ${name}: no directory ${absolute}`);
    const token = tokens.get(name);
    const sha = await emulator.addDirectoryRepo(name, absolute, { branch, live: true, private: token !== undefined, tokens: token === undefined ? [] : [token] });
    process.stdout.write(`  ${name}@${branch} ← ${absolute} (${token === undefined ? 'public' : 'private'}, ${sha.slice(0, 7)})\n`);
  }
  for (const entry of values.app) {
    const [appId, repos] = splitAssignment(entry, '--app');
    const id = emulator.installApp(appId, repos.split(','));
    process.stdout.write(`  app ${appId} installed as installation ${id} on ${repos}\n`);
  }
  const { baseUrl, close } = await emulator.start();
  process.stdout.write(`GitHub emulator listening on ${baseUrl}\n`);
  const stop = (): void => {
    void close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
