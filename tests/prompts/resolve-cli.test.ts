import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from '../helpers/run-cli.ts';
import { GitHubEmulator, type RunningEmulator } from '../emulators/github/server.ts';
import { promptRepoFiles } from './engine-helpers.ts';

const cli = runCliCaptured;

describe('recap prompts resolve', () => {
  let dir: string;
  let github: GitHubEmulator;
  let running: RunningEmulator;
  const env = () => ({ PROMPTS_DIR: join(process.cwd(), 'prompts'), GITHUB_API_URL: running.baseUrl });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recap-resolve-'));
    for (const [name, content] of Object.entries(promptRepoFiles('LOCAL'))) {
      await mkdir(join(dir, 'good', name, '..'), { recursive: true });
      await writeFile(join(dir, 'good', name), content);
    }
    await mkdir(join(dir, 'bad'), { recursive: true });
    await writeFile(join(dir, 'bad', 'PATH'), 'version: v1\nroutes:\n  a: "../outside.md"\n');
    github = new GitHubEmulator();
    running = await github.start();
    github.createRepo('acme/prompts', { files: promptRepoFiles('REMOTE') });
  });
  afterAll(async () => {
    await running.close();
  });

  it('resolves against a local folder and prints the JSON report', async () => {
    const r = await cli(['prompts', 'resolve', '--repo', 'good', '--category', 'discussion', '--channel', 'general', '--json'], env(), dir);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as Record<string, unknown>;
    expect(json).toMatchObject({ level: 'custom', path: 'prompts/discussion/default.md', tried: ['prompts/discussion/general.md', 'prompts/discussion/default.md'] });
    expect(typeof json.commit).toBe('string');
    expect(json.content).toMatch(/^LOCAL: summarize #general/);
  });

  it('falls through to the bundled prompts when the repo routes nowhere, and says why', async () => {
    const r = await cli(['prompts', 'resolve', '--repo', 'good', '--category', 'meeting', '--channel', 'retro'], env(), dir);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^level:\s+default$/m);
    expect(r.out).toMatch(/skipped custom: good: none of the routed files exists/);
  });

  it('exits 1 for an invalid repository, printing file:line:col problems', async () => {
    const r = await cli(['prompts', 'resolve', '--repo', 'bad', '--json'], env(), dir);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).level).toBe('default');
    expect(r.err).toMatch(/^PATH:3:\d+: /m);
  });

  it('reads a GitHub repository through the API', async () => {
    const r = await cli(['prompts', 'resolve', '--repo', 'https://github.com/acme/prompts', '--category', 'discussion', '--json'], env(), dir);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ level: 'custom', commit: github.head('acme/prompts') });
  });

  it('exits 1 when the GitHub repository does not exist', async () => {
    const r = await cli(['prompts', 'resolve', '--repo', 'acme/missing', '--json'], env(), dir);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).reasons[0].reason).toMatch(/acme\/missing/);
  });

  it('exits 2 on bad arguments', async () => {
    expect((await cli(['prompts', 'resolve'], env(), dir)).code).toBe(2);
    expect((await cli(['prompts', 'resolve', '--repo', 'good', '--bogus'], env(), dir)).code).toBe(2);
  });
});
