/**
 * Builds one JSON value from stream-json tokens, within limits, leaving out
 * the parts we never use. Exports carry bulky material per message (every
 * user who reacted, avatars, embed images); skipping it keeps memory flat and
 * means a message with ten thousand reactors costs nothing to keep.
 *
 * Numbers are kept as their JSON text (ids written as numbers would lose
 * digits as doubles); objects have no prototype, so a key named `__proto__`
 * is just a key.
 */

export type JsonValue = null | boolean | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** The token shapes stream-json's Parser emits with `packValues: true, streamValues: false`. */
export interface JsonToken {
  name: string;
  value?: string | boolean | null;
}

interface AssemblyLimits {
  maxDepth: number;
  /** Tokens kept (skipped parts do not count). */
  maxTokens: number;
  /** Characters of keys and strings kept. */
  maxChars: number;
}

export class AssemblyLimitError extends Error {
  override readonly name = 'AssemblyLimitError';
}

type Frame =
  | { kind: 'object'; obj: JsonObject; key: string | undefined; pattern: string }
  | { kind: 'array'; arr: JsonValue[]; pattern: string };

export class ValueAssembler {
  private stack: Frame[] = [];
  private result: JsonValue | undefined;
  private done = false;
  private skipDepth = -1;
  private tokens = 0;
  private chars = 0;

  /**
   * @param skip paths left out, relative to the assembled value, with `*` for
   *   any array index: `reactions.*.users` drops every reaction's user list.
   */
  constructor(
    private readonly limits: AssemblyLimits,
    private readonly skip: ReadonlySet<string> = new Set(),
  ) {}

  reset(): void {
    this.stack = [];
    this.result = undefined;
    this.done = false;
    this.skipDepth = -1;
    this.tokens = 0;
    this.chars = 0;
  }

  get value(): JsonValue {
    if (!this.done || this.result === undefined) throw new Error('ValueAssembler: value is not complete');
    return this.result;
  }

  /** Where the assembler is inside the value, for error messages: `author.roles[2]`. */
  get path(): string {
    let out = '';
    for (const frame of this.stack) {
      if (frame.kind === 'object') {
        if (frame.key !== undefined) out += out ? `.${frame.key}` : frame.key;
      } else {
        out += `[${frame.arr.length}]`;
      }
    }
    return out;
  }

  /** Feeds one token; returns true when the value is complete. */
  push(token: JsonToken): boolean {
    if (this.skipDepth >= 0) return this.pushSkipped(token);
    switch (token.name) {
      case 'startObject':
        this.open({ kind: 'object', obj: Object.create(null) as JsonObject, key: undefined, pattern: this.childPattern() });
        return false;
      case 'startArray':
        this.open({ kind: 'array', arr: [], pattern: this.childPattern() });
        return false;
      case 'endObject':
      case 'endArray': {
        const frame = this.stack.pop();
        if (!frame) throw new AssemblyLimitError(`unexpected ${token.name}`);
        return this.add(frame.kind === 'object' ? frame.obj : frame.arr);
      }
      case 'keyValue': {
        const top = this.stack.at(-1);
        if (top?.kind !== 'object') throw new AssemblyLimitError('a key outside an object');
        const key = String(token.value);
        this.count(key.length);
        top.key = key;
        if (this.skip.has(join(top.pattern, key))) this.skipDepth = 0;
        return false;
      }
      case 'stringValue':
      case 'numberValue': {
        const text = String(token.value);
        this.count(text.length);
        return this.add(detach(text));
      }
      case 'nullValue':
        this.count(0);
        return this.add(null);
      case 'trueValue':
        this.count(0);
        return this.add(true);
      case 'falseValue':
        this.count(0);
        return this.add(false);
      default:
        // Chunk tokens only appear with streaming options we do not use.
        return false;
    }
  }

  private pushSkipped(token: JsonToken): boolean {
    if (token.name === 'startObject' || token.name === 'startArray') this.skipDepth++;
    else if (token.name === 'endObject' || token.name === 'endArray') this.skipDepth--;
    else if (token.name === 'keyValue') return false;
    if (this.skipDepth === 0) this.finishSkip();
    return false;
  }

  private finishSkip(): void {
    this.skipDepth = -1;
    const top = this.stack.at(-1);
    if (top?.kind === 'object') top.key = undefined;
  }

  private childPattern(): string {
    const top = this.stack.at(-1);
    if (!top) return '';
    return top.kind === 'object' ? join(top.pattern, top.key ?? '') : join(top.pattern, '*');
  }

  private open(frame: Frame): void {
    this.count(0);
    if (this.stack.length >= this.limits.maxDepth) throw new AssemblyLimitError(`nesting deeper than ${this.limits.maxDepth} levels`);
    this.stack.push(frame);
  }

  private add(value: JsonValue): boolean {
    const top = this.stack.at(-1);
    if (!top) {
      this.result = value;
      this.done = true;
      return true;
    }
    if (top.kind === 'array') top.arr.push(value);
    else if (top.key !== undefined) {
      top.obj[top.key] = value;
      top.key = undefined;
    }
    return false;
  }

  private count(chars: number): void {
    this.tokens++;
    this.chars += chars;
    if (this.tokens > this.limits.maxTokens) throw new AssemblyLimitError(`more than ${this.limits.maxTokens} JSON values`);
    if (this.chars > this.limits.maxChars) throw new AssemblyLimitError(`more than ${this.limits.maxChars} characters of text`);
  }
}

/**
 * The parser cuts values out of its 64 KiB input buffer, and V8 keeps such
 * substrings as views that pin the whole buffer: holding one 80-character
 * message text would hold its entire chunk. Concatenating and slicing makes a
 * fresh copy of just the value.
 */
function detach(text: string): string {
  return text.length < 13 ? text : (' ' + text).slice(1);
}

function join(parent: string, child: string): string {
  return parent ? `${parent}.${child}` : child;
}
