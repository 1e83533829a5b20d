/**
 * What the API needs of the job queue (src/jobs/job-queue.ts, the shared
 * seam): enqueue and read back. Declared here by shape, so the API depends
 * on these two methods only.
 */
export type ApiJobState = 'queued' | 'running' | 'done' | 'failed';

export interface ApiJobRecord {
  id: string;
  kind: string;
  guildId: string | null;
  state: ApiJobState;
  attempts: number;
  lastError: string | null;
  result: Record<string, unknown> | null;
  createdAt: Date;
  finishedAt: Date | null;
}

export interface ApiJobs {
  enqueue(job: { kind: string; payload: Record<string, unknown>; guildId?: string; maxAttempts?: number }): Promise<{ id: string; created: boolean }>;
  get(id: string): Promise<ApiJobRecord | undefined>;
}
