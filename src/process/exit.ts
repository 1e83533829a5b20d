/**
 * Ends the process with `code` once what is pending has flushed. The code is
 * set again when the process exits because a library may overwrite
 * process.exitCode on the way out (PGlite saves and restores it around its
 * calls, turning a failed start-up's 1 back into 0). If something still holds
 * the event loop open, the exit is forced after `graceMs`.
 */
export function exitWith(code: number, graceMs = 3_000, proc: NodeJS.Process = process): void {
  proc.exitCode = code;
  proc.on('exit', () => {
    proc.exitCode = code;
  });
  setTimeout(() => proc.exit(code), graceMs).unref();
}
