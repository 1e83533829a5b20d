/**
 * What the host hands out instead of a plugin's raw provider. It
 *  - counts calls in flight, so a reload closes an old instance only once idle;
 *  - turns anything that is not a ProviderError into one, so the router never
 *    sees a bare TypeError from plugin code;
 *  - takes the plugin out of service (state `error`) once it has thrown
 *    `crashThreshold` unexpected exceptions in a row: a plugin that keeps
 *    crashing is a bug, not an outage, and retrying it only burns time.
 */
import type { GenerateRequest, GenerateResponse, Provider, ProviderHealth, StreamEvent } from '../provider-spec/contract.ts';
import { ProviderError } from '../provider-spec/contract.ts';
import { describeError } from '../../log/error-message.ts';

interface InFlightTracker {
  enter(): void;
  leave(): void;
}

interface ProviderGuardOptions {
  crashThreshold: number;
  healthTimeoutMs: number;
  track: InFlightTracker;
  /** Undefined while the provider may be called; otherwise why not. */
  unavailable(): string | undefined;
  /** Called once the crash threshold is reached. */
  onCrashLoop(reason: string): void;
}

export function guardProvider(inner: Provider, options: ProviderGuardOptions): Provider {
  let crashesInARow = 0;

  const refuseIfUnavailable = (request: GenerateRequest) => {
    const reason = options.unavailable();
    if (reason !== undefined) {
      throw new ProviderError('server', `provider "${inner.name}" is not available: ${reason}`, { provider: inner.name, model: request.model });
    }
  };

  const normalise = (error: unknown, request: GenerateRequest): ProviderError => {
    if (error instanceof ProviderError) {
      crashesInARow = 0;
      return error;
    }
    if (request.signal?.aborted || (error instanceof Error && error.name === 'AbortError')) {
      return new ProviderError('aborted', 'the call was aborted', { provider: inner.name, model: request.model, cause: error });
    }
    crashesInARow += 1;
    const detail = describeError(error);
    if (crashesInARow >= options.crashThreshold) {
      options.onCrashLoop(`provider threw ${crashesInARow} unexpected errors in a row (last: ${detail})`);
    }
    return new ProviderError('server', `provider "${inner.name}" failed unexpectedly: ${detail}`, {
      provider: inner.name,
      model: request.model,
      cause: error,
    });
  };

  return {
    ...(inner.specificationVersion === undefined ? {} : { specificationVersion: inner.specificationVersion }),
    name: inner.name,
    models: inner.models,
    requiresKey: inner.requiresKey,

    async generate(request: GenerateRequest): Promise<GenerateResponse> {
      refuseIfUnavailable(request);
      options.track.enter();
      try {
        const response = await inner.generate(request);
        if (response === null || typeof response !== 'object' || typeof response.text !== 'string') {
          throw new TypeError('generate() returned a malformed response');
        }
        crashesInARow = 0;
        return response;
      } catch (error) {
        throw normalise(error, request);
      } finally {
        options.track.leave();
      }
    },

    async *stream(request: GenerateRequest): AsyncIterable<StreamEvent> {
      refuseIfUnavailable(request);
      options.track.enter();
      try {
        for await (const event of inner.stream(request)) yield event;
        crashesInARow = 0;
      } catch (error) {
        throw normalise(error, request);
      } finally {
        options.track.leave();
      }
    },

    health: () => boundedHealth(inner, options.healthTimeoutMs),
  };
}

/** A health probe that cannot hang the status page or throw into it. */
async function boundedHealth(provider: Provider, timeoutMs: number): Promise<ProviderHealth> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ProviderHealth>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, detail: `health check did not answer within ${timeoutMs} ms` }), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([
      Promise.resolve()
        .then(() => provider.health())
        .catch((error: unknown) => ({ ok: false, detail: `health check failed: ${describeError(error)}` })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
