import type { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { redact, redactString } from './redact.ts';

export type { Logger } from 'pino';

interface LoggerOptions {
  level: string;
  format: 'auto' | 'json' | 'pretty';
  /** Where lines go; defaults to stdout. Tests pass a capturing stream. */
  destination?: Writable & { isTTY?: boolean };
  base?: Record<string, unknown>;
}

/**
 * Structured JSON logs, pretty when a person is watching a terminal. Every
 * object and message passes through deep redaction, so callers never have to
 * remember which fields hold secrets.
 */
export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? process.stdout;
  const wantPretty =
    options.format === 'pretty' || (options.format === 'auto' && (destination as { isTTY?: boolean }).isTTY === true);
  const stream = wantPretty ? pretty({ destination, colorize: true, sync: true }) : destination;
  return pino(
    {
      level: options.level,
      base: options.base ?? { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Errors are turned into plain objects by `redact` in the log formatter,
      // which runs first; the default serializer would then see a non-Error.
      serializers: { err: (err: unknown) => err },
      formatters: {
        log: (object) => redact(object) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          // pino takes an Error's message as the line's msg without passing it
          // through the formatter, so hand it over already scrubbed.
          const [first, ...rest] = args;
          if (first instanceof Error && rest.length === 0) {
            method.call(this, { err: first }, redactString(first.message));
            return;
          }
          const scrubbed = args.map((arg) => (typeof arg === 'string' ? redactString(arg) : arg));
          method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    stream,
  );
}
