/**
 * The job queue seam: durable work that runs once across every process of a
 * deployment. `durable-queue.ts` implements it over the `jobs` table.
 */

export interface NewJob {
  kind: string;
  payload: Record<string, unknown>;
  guildId?: string;
  /** Not before this time; now when left out. */
  runAt?: Date;
  /** While a job with this key is queued or running, enqueue returns that job instead of a new one. */
  dedupeKey?: string;
  /** Claims before it is recorded as failed (a crash mid-run counts as one); 3 when left out. */
  maxAttempts?: number;
}

export type JobState = 'queued' | 'running' | 'done' | 'failed';

export interface JobRecord {
  id: string;
  kind: string;
  guildId: string | null;
  state: JobState;
  attempts: number;
  lastError: string | null;
  result: Record<string, unknown> | null;
  createdAt: Date;
  finishedAt: Date | null;
}

export type JobHandler = (job: {
  id: string;
  payload: Record<string, unknown>;
  attempt: number;
  /** Aborted when this process lost the job's lease, is stopping, or the run took too long. */
  signal: AbortSignal;
}) => Promise<Record<string, unknown> | void>;

export interface JobQueue {
  enqueue(job: NewJob): Promise<{ id: string; created: boolean }>;
  /** Register before start(); a process claims only the kinds it handles. */
  handle(kind: string, handler: JobHandler): void;
  /** A deployment-wide recurring job: runs once per interval across all processes. */
  every(kind: string, intervalMs: number, payload?: Record<string, unknown>): void;
  get(id: string): Promise<JobRecord | undefined>;
  start(): void;
  stop(): Promise<void>;
}
