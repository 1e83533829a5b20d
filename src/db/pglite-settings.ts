import { PGlite } from '@electric-sql/pglite';

/**
 * How the embedded Postgres is started. PGlite keeps Postgres's default
 * shared_buffers (128 MB), and its wasm heap touches all of it: that alone is
 * about 130 MB of the idle service's RSS. The bot's tables are small and the
 * operating system caches the files anyway, so 16 MB costs no measurable
 * speed (bench/startup.ts measures the RSS; 8 MB saves no more). work_mem
 * stays at its 4 MB default: it is allocated per sort, not held.
 */
export const PGLITE_SHARED_BUFFERS = '16MB';

export function pgliteStartParams(): string[] {
  return [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`];
}
