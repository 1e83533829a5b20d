/**
 * The text of anything thrown, for a log field, a reply or a wrapped error.
 * Where the stack matters (an unexpected failure), log the Error itself as
 * `err` instead: the logger keeps its type, stack and cause.
 */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
