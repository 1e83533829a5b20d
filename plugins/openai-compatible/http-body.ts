/**
 * Reading response bodies from an untrusted server: bounded in size, each
 * read passed through `step` (the caller's deadline), and cancelled when the
 * reader stops early so the connection is released.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';

type Step = <T>(work: Promise<T>) => Promise<T>;

/** The body broke a size limit or the SSE framing; reported as invalid_response. */
class MalformedBodyError extends Error {
  override readonly name = 'MalformedBodyError';
}

async function* chunks(body: ReadableStream<Uint8Array>, step: Step, maxBytes: number): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let finished = false;
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await step(reader.read());
      if (done) {
        finished = true;
        return;
      }
      total += value.byteLength;
      if (total > maxBytes) throw new MalformedBodyError(`answer exceeds ${maxBytes} bytes`);
      yield value;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
  }
}

export async function readText(body: ReadableStream<Uint8Array> | null, step: Step, maxBytes: number): Promise<string> {
  if (!body) return '';
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of chunks(body, step, maxBytes)) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

/** Yields the SSE messages of a streamed answer; an over-long line or event is malformed, not buffered forever. */
export async function* sseMessages(
  body: ReadableStream<Uint8Array> | null,
  step: Step,
  limits: { maxBytes: number; maxEventChars: number },
): AsyncGenerator<EventSourceMessage> {
  if (!body) throw new MalformedBodyError('streamed answer has no body');
  const pending: EventSourceMessage[] = [];
  let broken: string | undefined;
  const parser = createParser({
    onEvent: (message) => pending.push(message),
    onError: (error) => {
      // Unknown fields are allowed by the SSE spec; only a runaway buffer is fatal.
      if (error.type === 'max-buffer-size-exceeded') broken = error.message;
    },
    maxBufferSize: limits.maxEventChars,
  });
  const decoder = new TextDecoder();
  const drain = function* (): Generator<EventSourceMessage> {
    if (broken !== undefined) throw new MalformedBodyError(`malformed event stream: ${broken}`);
    while (pending.length > 0) yield pending.shift() as EventSourceMessage;
  };
  for await (const chunk of chunks(body, step, limits.maxBytes)) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    yield* drain();
  }
  parser.feed(decoder.decode());
  // Some servers end on `data: [DONE]` without the closing blank line; take it rather than call the stream cut.
  parser.reset({ consume: true });
  yield* drain();
}
