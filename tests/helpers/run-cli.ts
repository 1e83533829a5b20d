/** The CLI run in-process with captured output, as a shell would see it. */
import { PassThrough } from 'node:stream';
import { runCli } from '../../src/cli/main.ts';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

export async function runCliCaptured(argv: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += String(c)));
  stderr.on('data', (c: Buffer) => (err += String(c)));
  const code = await runCli({ argv, env, stdout, stderr, cwd });
  return { code, out, err };
}
