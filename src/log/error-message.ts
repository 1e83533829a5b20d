/**
 * The text of anything thrown, for a log field, a reply or a wrapped error.
 * Where the stack matters (an unexpected failure), log the Error itself as
 * `err` instead: the logger keeps its type, stack and cause.
 */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * `messageOf` with the error's class when it is more than `Error`: for what
 * a plugin's own code threw, where "TypeError: x is not a function" says
 * more than the message alone.
 */
export function describeError(error: unknown): string {
  if (error instanceof Error && error.name !== 'Error') return `${error.name}: ${error.message}`;
  return messageOf(error);
}
