/** Opening a provider stream far enough to know it works: up to its first text. */
import { ProviderError, type StreamEvent, type Usage } from '../provider-spec/contract.ts';
import { abortable, type AttemptSignal } from './attempt-signal.ts';
import type { Candidate, OpenedStream } from './call-state.ts';
import type { TimeoutSettings } from './options.ts';

/**
 * Reads events until the first non-empty text (or an immediate finish), under
 * the connect and first-token timers. Until this resolves nothing has reached
 * the caller, so a failure here may still fall back to another target.
 */
export async function openStream(c: Candidate, signal: AttemptSignal, t: TimeoutSettings): Promise<OpenedStream> {
  const where = { provider: c.target.provider, model: c.target.model };
  const iterator = c.provider.stream(c.request)[Symbol.asyncIterator]();
  signal.arm('connect', t.connectMs);
  signal.arm('firstToken', t.firstTokenMs);
  try {
    for (;;) {
      const next = await abortable(iterator.next(), signal.signal);
      signal.clear('connect');
      if (next.done) throw new ProviderError('invalid_response', 'the stream ended before any answer', where);
      const event = next.value;
      if (event?.type === 'usage') {
        noteUsage(c, event.usage);
        continue;
      }
      if (event?.type === 'text' && typeof event.delta === 'string') {
        if (event.delta.length === 0) continue;
      } else if (event?.type !== 'finish') {
        throw new ProviderError('invalid_response', 'the stream sent an unknown event', where);
      }
      signal.clear('firstToken');
      return { iterator, first: event };
    }
  } catch (err) {
    closeStream(iterator);
    throw err;
  }
}

/** The next event after the first, or a ProviderError when the stream breaks its contract. */
export async function nextEvent(stream: OpenedStream, signal: AttemptSignal, c: Candidate): Promise<OpenedStream['first']> {
  const where = { provider: c.target.provider, model: c.target.model };
  for (;;) {
    const next = await abortable(stream.iterator.next(), signal.signal);
    if (next.done) throw new ProviderError('invalid_response', 'the stream ended without finishing', where);
    const event = next.value;
    if (event?.type === 'usage') {
      noteUsage(c, event.usage);
      continue;
    }
    if (event?.type === 'finish' || (event?.type === 'text' && typeof event.delta === 'string')) return event;
    throw new ProviderError('invalid_response', 'the stream sent a malformed event', where);
  }
}

/** Keeps the provider's latest report; a malformed one is ignored (cleanUsage checks the numbers when it is used). */
function noteUsage(c: Candidate, usage: unknown): void {
  if (usage !== null && typeof usage === 'object') c.reported = usage as Usage;
}

/** Tells a provider's stream we are done with it; its own cleanup errors are not ours. */
export function closeStream(iterator: AsyncIterator<StreamEvent>): void {
  try {
    const done = iterator.return?.();
    if (done !== undefined) done.catch(() => {});
  } catch {
    // A provider whose return() throws has nothing left to clean up.
  }
}
