/** Probing /readyz from tests: one answer, or polling until it says what the test waits for. */

export interface Readiness {
  status: number;
  body: { status: string; checks: Record<string, string>; reason?: string };
}

/** undefined while nothing listens at `base` yet. */
export async function readyz(base: string): Promise<Readiness | undefined> {
  let res: Response;
  try {
    res = await fetch(`${base}/readyz`);
  } catch {
    return undefined;
  }
  return { status: res.status, body: (await res.json()) as Readiness['body'] };
}

/** Calls `probe` every 100 ms until it returns a value. */
export async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Waits for /readyz to answer `status`; returns that answer. */
export function readyzAnswering(base: string, status: number, timeoutMs: number): Promise<Readiness> {
  return until(
    async () => {
      const answer = await readyz(base);
      return answer?.status === status ? answer : undefined;
    },
    timeoutMs,
    `/readyz answering ${status}`,
  );
}
