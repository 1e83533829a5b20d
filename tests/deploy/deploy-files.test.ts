/**
 * The deployment files hold what an operator relies on. Docker cannot run
 * here, so the image's steps are exercised by deploy/verify.sh (run by
 * .ci/run); these checks keep the files themselves honest and fast.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const run = promisify(execFile);
const read = (path: string): string => readFileSync(path, 'utf8');

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions per stage name: continuation lines joined, comments dropped. */
function dockerStages(text: string): Map<string, Instruction[]> {
  const stages = new Map<string, Instruction[]>();
  let current: Instruction[] | undefined;
  let pending = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw)) continue;
    pending += raw;
    if (/\\\s*$/.test(pending)) {
      pending = pending.replace(/\\\s*$/, ' ');
      continue;
    }
    const line = pending.trim();
    pending = '';
    if (line === '') continue;
    const [keyword = '', ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    if (instruction.keyword === 'FROM') {
      const name = /\bAS\s+(\S+)$/i.exec(instruction.args)?.[1] ?? `stage${stages.size}`;
      current = [instruction];
      stages.set(name, current);
    } else {
      current?.push(instruction);
    }
  }
  return stages;
}

const dockerfile = read('Dockerfile');
const stages = dockerStages(dockerfile);
const build = stages.get('build') ?? [];
const runtime = stages.get('runtime') ?? [];
const runs = (stage: Instruction[]): string[] => stage.filter((i) => i.keyword === 'RUN').map((i) => i.args);
const one = (stage: Instruction[], keyword: string): string => {
  const found = stage.filter((i) => i.keyword === keyword);
  expect(found, `exactly one ${keyword}`).toHaveLength(1);
  return found[0]!.args;
};
const imageCmd = (): string[] => JSON.parse(one(runtime, 'CMD')) as string[];

describe('Dockerfile', () => {
  it('builds in one stage with dev dependencies and runs from another with production ones only', () => {
    expect([...stages.keys()]).toEqual(['build', 'runtime']);
    expect(runs(build).some((r) => /^npm ci\b/.test(r) && !r.includes('--omit=dev'))).toBe(true);
    expect(runs(build)).toContain('npm run build');
    expect(runs(runtime).some((r) => /^npm ci\b.*--omit=dev/.test(r))).toBe(true);
    expect(runs(runtime).some((r) => r.includes('npm run build'))).toBe(false);
    // Lifecycle scripts (prepare → build) cannot run where the build tools or sources are absent.
    for (const r of [...runs(build), ...runs(runtime)].filter((r) => /^npm ci\b/.test(r))) expect(r).toContain('--ignore-scripts');
    expect(runtime.some((i) => i.keyword === 'COPY' && /^--from=build \/app\/dist\b/.test(i.args))).toBe(true);
  });

  it('runs as a non-root user, under tini, with the compiled entry point in exec form', () => {
    expect(one(runtime, 'USER')).not.toMatch(/^(root|0)(:|$)/);
    expect(JSON.parse(one(runtime, 'ENTRYPOINT'))).toEqual(['/usr/bin/tini', '--']);
    expect(runs(runtime).some((r) => /apt-get install .*\btini\b/.test(r))).toBe(true);
    const cmd = imageCmd();
    expect(cmd[0]).toBe('node');
    expect(cmd.at(-1)).toMatch(/^dist\/.*main\.js$/);
    expect(one(runtime, 'STOPSIGNAL')).toBe('SIGTERM');
  });

  it('checks /healthz with node alone', () => {
    const healthcheck = one(runtime, 'HEALTHCHECK');
    const [, options = '', cmd = ''] = /^(.*?)\bCMD\s+(\[.*\])$/.exec(healthcheck) ?? [];
    expect(JSON.parse(cmd)).toEqual(['node', 'deploy/healthcheck.mjs']);
    expect(options).toMatch(/--start-period=\d+s/);
    expect(runtime.some((i) => i.keyword === 'COPY' && i.args === 'deploy/healthcheck.mjs ./deploy/healthcheck.mjs')).toBe(true);
    expect(read('deploy/healthcheck.mjs')).toMatch(/'\/healthz'/);
  });

  it('uses a Node version package.json supports', () => {
    const image = /^ARG NODE_IMAGE=node:(\d+)[-.]/m.exec(dockerfile)?.[1];
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    expect(image).toBe('22');
    expect(engines.split('||').map((r) => /\^?(\d+)\./.exec(r.trim())?.[1])).toEqual(['20', '22']);
  });

  it('keeps secrets and local state out of the build context', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const entry of ['.env', 'node_modules', 'data', '.git']) expect(ignored).toContain(entry);
  });

  it('starts the same command as `npm start` (which execs node so that SIGTERM reaches it)', () => {
    const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.start ?? '';
    expect(start.startsWith('exec node ')).toBe(true);
    expect(imageCmd().join(' ')).toBe(start.replace(/^exec /, ''));
  });
});

describe('docker-compose.yml', () => {
  const compose = parseYaml(read('docker-compose.yml')) as {
    services: Record<string, Record<string, unknown>>;
    volumes: Record<string, unknown>;
  };

  it('runs the bot against Postgres 15 on a named volume, with an env file', () => {
    const { bot, postgres } = compose.services;
    expect(postgres?.image).toBe('postgres:15');
    const pgVolume = (postgres?.volumes as string[]).find((v) => v.endsWith(':/var/lib/postgresql/data'));
    expect(pgVolume).toBeDefined();
    expect(Object.keys(compose.volumes)).toContain(pgVolume!.split(':')[0]);
    expect((postgres?.healthcheck as { test: string[] }).test.join(' ')).toMatch(/pg_isready/);
    expect(bot?.build).toBe('.');
    expect(bot?.env_file).toBe('.env');
    expect(bot?.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect((bot?.environment as Record<string, string>).DATABASE_URL).toMatch(/^postgres:\/\/recap:.*@postgres:5432\/recap$/);
  });

  it('migrates at start: nothing turns DATABASE_MIGRATE_ON_START off', () => {
    expect(compose.services.bot?.environment).not.toHaveProperty('DATABASE_MIGRATE_ON_START');
  });
});

describe('deploy/systemd/recap-bot.service', () => {
  const unit = read('deploy/systemd/recap-bot.service');
  const setting = (name: string): string | undefined => new RegExp(`^${name}=(.*)$`, 'm').exec(unit)?.[1];

  it('runs node on the image\'s entry point as an unprivileged user and stops it with SIGTERM', () => {
    expect(setting('ExecStart')).toBe(`/usr/bin/node ${imageCmd().slice(1).join(' ')}`);
    expect(setting('User')).toMatch(/^(?!root$)\w+/);
    expect(setting('KillSignal')).toBe('SIGTERM');
    expect(setting('KillMode')).toBe('mixed');
    expect(setting('Restart')).toBe('on-failure');
    expect(setting('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
  });
});

describe('deploy/kubernetes/recap-bot.yaml', () => {
  interface Probe {
    httpGet: { path: string };
    periodSeconds: number;
    failureThreshold: number;
  }
  const deployment = parseYaml(read('deploy/kubernetes/recap-bot.yaml')) as {
    spec: { template: { spec: { securityContext: { runAsNonRoot: boolean }; containers: Array<Record<string, Probe>> } } };
  };
  const container = deployment.spec.template.spec.containers[0]!;

  it('probes liveness on /healthz, readiness on /readyz, and gives the first migration minutes', () => {
    expect(container.livenessProbe?.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe?.httpGet.path).toBe('/readyz');
    expect(container.startupProbe?.httpGet.path).toBe('/healthz');
    const startup = container.startupProbe!;
    expect(startup.periodSeconds * startup.failureThreshold).toBeGreaterThanOrEqual(120);
    expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
  });
});

describe('deploy/healthcheck.mjs', () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.statusCode = req.url === '/healthz' ? 200 : 503;
      res.end(req.url === '/healthz' ? 'ok' : 'database: down');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const probe = async (env: NodeJS.ProcessEnv, args: string[] = []) => {
    try {
      await run(process.execPath, ['deploy/healthcheck.mjs', ...args], { env: { PATH: process.env.PATH, ...env }, timeout: 10_000 });
      return { code: 0, err: '' };
    } catch (error) {
      const e = error as { code: number; stderr: string };
      return { code: e.code, err: e.stderr };
    }
  };

  it('exits 0 when /healthz answers 200, also when the service listens on every interface', async () => {
    expect((await probe({ HTTP_PORT: String(port) })).code).toBe(0);
    expect((await probe({ HTTP_PORT: String(port), HTTP_HOST: '0.0.0.0' })).code).toBe(0);
  });

  it('exits 1 with the reason for another status or no listener', async () => {
    const unready = await probe({ HTTP_PORT: String(port) }, ['/readyz']);
    expect(unready).toEqual({ code: 1, err: `http://127.0.0.1:${port}/readyz: 503\n` });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await probe({ HTTP_PORT: String(freePort) });
    expect(refused).toEqual({ code: 1, err: `http://127.0.0.1:${freePort}/healthz: ECONNREFUSED\n` });
  });
});

describe('deploy/verify.sh', () => {
  it('is an executable bash script that parses, and CI runs it', async () => {
    accessSync('deploy/verify.sh', constants.X_OK);
    await run('bash', ['-n', 'deploy/verify.sh']);
    expect(read('.ci/run')).toMatch(/^deploy\/verify\.sh\b/m);
  });
});
