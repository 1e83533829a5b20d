// The container's HEALTHCHECK, and the probe deploy/verify.sh uses: exit 0 when
// GET /healthz (or the path given as the first argument, e.g. /readyz) answers
// 200 within 3 s on this host's HTTP_PORT, exit 1 otherwise. Node alone does
// it, so the image needs no curl or wget. Plain JavaScript: it runs without
// the build and without tsx.
const path = process.argv[2] ?? '/healthz';
const port = Number(process.env.HTTP_PORT || 8080);
// 0.0.0.0 and :: are "every interface"; probe loopback then.
const configured = process.env.HTTP_HOST || '127.0.0.1';
const host = configured === '0.0.0.0' || configured === '::' ? '127.0.0.1' : configured;
const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;

try {
  const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
  await response.body?.cancel();
  if (response.status !== 200) {
    process.stderr.write(`${url}: ${response.status}\n`);
    process.exit(1);
  }
  process.exit(0);
} catch (error) {
  process.stderr.write(`${url}: ${error instanceof Error ? (error.cause?.code ?? error.message) : String(error)}\n`);
  process.exit(1);
}
