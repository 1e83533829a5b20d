import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A value that cannot be printed by accident: string conversion, JSON and
 * util.inspect (console.log, pino) all show `[redacted]`. The plaintext is
 * reachable only through an explicit `reveal()`.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }
}
