import type { Generated } from 'kysely';
import type { EngineTables } from '../summaries/tables.ts';
import type { LlmTables } from '../llm/tables.ts';
import type { WebhookTables } from '../webhooks/tables.ts';
import type { AppInstallationTables } from '../prompts/sources/app-installations.ts';
import type { InstallStateTables } from '../github-app/install-state.ts';
import type { JobsTable, JobSchedulesTable } from '../jobs/tables.ts';
import type { DigestsTable, DigestRunsTable } from '../digests/tables.ts';
import type { Json, Timestamp } from './column-types.ts';
import type { LlmRateLimitsTable, LlmTargetStateTable } from '../llm/shared-state/tables.ts';
import type { NoticeTables } from '../notices/tables.ts';
import type { SummaryPostsTable } from '../summaries/tables.ts';

/**
 * Table types, one interface per table; each folder that owns tables
 * declares them beside its code and they are joined here, so queries stay
 * typed end to end.
 */

export interface GuildSettingsTable {
  guild_id: string;
  settings: Json<Record<string, unknown>>;
  created_at: Timestamp;
  updated_at: Timestamp;
  updated_by: string | null;
}

export interface GuildPromptConfigsTable {
  guild_id: string;
  repo_url: string;
  api_host: string;
  owner: string;
  repo: string;
  branch: string;
  enabled: boolean;
  last_sync_status: string | null;
  last_sync_commit: string | null;
  last_sync_at: Timestamp | null;
  last_sync_errors: Json<unknown[]> | null;
  last_push_at: Timestamp | null;
  repo_event: string | null;
  created_by: string;
  created_at: Timestamp;
  updated_by: string;
  updated_at: Timestamp;
}

export interface SecretsTable {
  guild_id: string;
  purpose: string;
  key_id: string;
  /** The binding the ciphertext was sealed with; authenticated, not secret. */
  aad: string;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
  created_by: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface AuditLogTable {
  id: Generated<string>;
  guild_id: string;
  actor_id: string;
  action: string;
  details: Json<Record<string, unknown>>;
  correlation_id: string | null;
  created_at: Timestamp;
}

export interface PromptSnapshotsTable {
  cache_key: string;
  api_host: string;
  owner: string;
  repo: string;
  ref: string;
  scope: string;
  commit_sha: string;
  etag: string | null;
  files: Uint8Array;
  bytes: number;
  fetched_at: Timestamp;
  checked_at: Timestamp;
  last_error: string | null;
  last_error_at: Timestamp | null;
  gone_since: Timestamp | null;
}

export interface PromptInvalidHeadsTable {
  cache_key: string;
  commit_sha: string;
  etag: string | null;
  problems: Json<unknown[]>;
  seen_at: Timestamp;
}

export interface PromptAccessDenialsTable {
  cache_key: string;
  status: number;
  message: string;
  since: Timestamp;
  checked_at: Timestamp;
}

export interface PromptFetchLogTable {
  id: Generated<string>;
  cache_key: string;
  outcome: string;
  commit_sha: string | null;
  error: string | null;
  duration_ms: number;
  created_at: Timestamp;
}

export interface Database extends EngineTables, LlmTables, WebhookTables, AppInstallationTables, InstallStateTables {
  guild_settings: GuildSettingsTable;
  guild_prompt_configs: GuildPromptConfigsTable;
  secrets: SecretsTable;
  audit_log: AuditLogTable;
  prompt_snapshots: PromptSnapshotsTable;
  prompt_fetch_log: PromptFetchLogTable;
  prompt_invalid_heads: PromptInvalidHeadsTable;
  prompt_access_denials: PromptAccessDenialsTable;
  llm_rate_limits: LlmRateLimitsTable;
  llm_target_state: LlmTargetStateTable;
  jobs: JobsTable;
  job_schedules: JobSchedulesTable;
  digests: DigestsTable;
  digest_runs: DigestRunsTable;
  summary_posts: SummaryPostsTable;
  guild_notice_channels: NoticeTables['guild_notice_channels'];
  admin_notices: NoticeTables['admin_notices'];
}
