/**
 * The slow-body attack of issue 12 §5 against the real service process:
 * 300 strangers each declare a 1 MiB webhook body, send 960 KiB of it and
 * stall. Measures how much resident memory that leaves behind once the
 * sockets are gone, and how long /healthz and a correctly signed webhook
 * take to answer meanwhile. Targets 127.0.0.1 only and stops by itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';

const ROOT = resolve(import.meta.dirname, '..');
const SOCKETS = 300;
const DECLARED = 1024 * 1024;
const SENT = 960 * 1024;
const HOLD_MS = 6_000;
const SETTLE_MS = 4_000;
const PROBE_EVERY_MS = 250;

export interface UnauthBodyResult {
  rssBeforeMb: number;
  rssGrowthMb: number;
  /** The highest RSS during the attack, over the baseline. */
  rssPeakGrowthMb: number;
  healthzMaxMs: number;
  healthzMs: number[];
  webhookMs: number[];
  webhookMaxMs: number;
  /** How the attackers' requests were answered (status → count; "none" = no answer before we closed). */
  attackAnswers: Record<string, number>;
}

export async function measureUnauthBodyRssGrowth(): Promise<UnauthBodyResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'recap-abuse-body-'));
  const secret = randomBytes(24).toString('hex');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATA_DIR: dataDir,
      HTTP_PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      GITHUB_WEBHOOK_SECRET: secret,
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4_000);
  });
  let attack: ReturnType<typeof startAttack> | undefined;
  try {
    await waitForHealthz(base, child, () => stderr);
    // Warm up: the first requests of each kind allocate what every later one reuses.
    // Large signed bodies also make V8 collect what start-up left behind, so the baseline is the steady state.
    for (let i = 0; i < 20; i++) {
      await probeHealthz(base);
      await probeWebhook(base, secret);
      await probeWebhook(base, secret, 900 * 1024);
    }
    const pid = child.pid as number;
    const before = await steadyRssMb(pid);
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMb(pid));
    }, 100);

    attack = startAttack(port);

    const healthz: number[] = [];
    const webhook: number[] = [];
    const until = Date.now() + HOLD_MS;
    while (Date.now() < until) {
      healthz.push(await probeHealthz(base));
      webhook.push(await probeWebhook(base, secret));
      await sleep(PROBE_EVERY_MS);
    }
    const answers = await attack.close();
    attack = undefined;
    await sleep(SETTLE_MS);
    clearInterval(sampler);
    const after = rssMb(pid);
    peak = Math.max(peak, after);
    return {
      rssBeforeMb: round(before),
      rssGrowthMb: round(after - before),
      rssPeakGrowthMb: round(peak - before),
      healthzMs: healthz.map(Math.round),
      webhookMs: webhook.map(Math.round),
      healthzMaxMs: Math.round(Math.max(...healthz)),
      webhookMaxMs: Math.round(Math.max(...webhook)),
      attackAnswers: answers,
    };
  } finally {
    await attack?.close();
    await stop(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The strangers run on a worker thread, so that writing their 280 MiB does
 * not slow this thread's probes: the latencies measured are the service's.
 */
const ATTACK_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { connect } = require('node:net');
const { randomBytes } = require('node:crypto');
const { port, sockets, declared, sent } = workerData;
const filler = Buffer.alloc(sent, 'a');
const answers = {};
const open = [];
for (let i = 0; i < sockets; i++) {
  const socket = connect({ port, host: '127.0.0.1' });
  let answered = false;
  let head = '';
  socket.on('connect', () => {
    socket.write(
      'POST /webhooks/github HTTP/1.1\\r\\n' +
        'Host: 127.0.0.1:' + port + '\\r\\n' +
        'Content-Type: application/json\\r\\n' +
        'X-GitHub-Event: push\\r\\n' +
        'X-GitHub-Delivery: ' + randomBytes(8).toString('hex') + '\\r\\n' +
        'X-Hub-Signature-256: sha256=' + '0'.repeat(64) + '\\r\\n' +
        'Content-Length: ' + declared + '\\r\\n\\r\\n',
    );
    socket.write(filler);
  });
  socket.on('data', (d) => {
    if (answered) return;
    head += d.toString('latin1');
    const status = /^HTTP\\/1\\.1 (\\d{3})/.exec(head);
    if (status) { answered = true; answers[status[1]] = (answers[status[1]] || 0) + 1; }
  });
  socket.on('close', () => {
    if (!answered) answers.none = (answers.none || 0) + 1;
    answered = true;
  });
  socket.on('error', () => undefined);
  open.push(socket);
}
parentPort.on('message', () => {
  for (const socket of open) socket.destroy();
  setTimeout(() => parentPort.postMessage(answers), 200);
});
`;

/** 300 strangers that each declare 1 MiB, send 960 KiB and then say nothing more; `close` hangs up on all. */
function startAttack(port: number): { close(): Promise<Record<string, number>> } {
  const worker = new Worker(ATTACK_WORKER, { eval: true, workerData: { port, sockets: SOCKETS, declared: DECLARED, sent: SENT } });
  worker.on('error', () => undefined);
  return {
    close: () =>
      new Promise((done) => {
        worker.once('message', (answers: Record<string, number>) => {
          void worker.terminate();
          done(answers);
        });
        worker.postMessage('close');
      }),
  };
}

async function probeHealthz(base: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(10_000) });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`/healthz answered ${res.status}`);
  return performance.now() - started;
}

async function probeWebhook(base: string, secret: string, padding = 0): Promise<number> {
  const body = JSON.stringify({ zen: `Keep it logically awesome.${' '.repeat(padding)}`, hook_id: 1, repository: { full_name: 'acme/prompts', name: 'prompts', owner: { login: 'acme' } } });
  const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const started = performance.now();
  const res = await fetch(`${base}/webhooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'ping',
      'x-github-delivery': randomBytes(8).toString('hex'),
      'x-hub-signature-256': signature,
    },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`a signed webhook was answered ${res.status}: ${text}`);
  return performance.now() - started;
}

async function waitForHealthz(base: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the service exited (${child.exitCode}): ${log()}`);
    try {
      if ((await fetch(`${base}/healthz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`the service did not answer /healthz within 60 s: ${log()}`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Start-up garbage is still being collected for a while: wait until RSS stops moving. */
async function steadyRssMb(pid: number): Promise<number> {
  const samples: number[] = [];
  const deadline = Date.now() + 30_000;
  for (;;) {
    samples.push(rssMb(pid));
    const recent = samples.slice(-5);
    if (recent.length === 5 && Math.max(...recent) - Math.min(...recent) < 2) return recent[4] as number;
    if (Date.now() > deadline) return samples[samples.length - 1] as number;
    await sleep(500);
  }
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
  if (!Number.isFinite(kb)) throw new Error(`no VmRSS for process ${pid}`);
  return kb / 1024;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const round = (mb: number) => Math.round(mb * 10) / 10;
