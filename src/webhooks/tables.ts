import type { ColumnType } from 'kysely';
import type { Json, Timestamp } from '../db/column-types.ts';

/**
 * Table types for GitHub webhook deliveries (migration
 * 0005_webhook_deliveries, 0006), merged into the application's `Database`
 * in src/db/schema.ts.
 */

export type DeliveryStatus = 'queued' | 'done' | 'failed';

export interface WebhookDeliveriesTable {
  /** GitHub's X-GitHub-Delivery GUID: a redelivery or replay carries the same one. */
  delivery_id: string;
  event: string;
  action: string | null;
  /** `owner/name` when the event names a repository. */
  repo: string | null;
  status: ColumnType<DeliveryStatus, DeliveryStatus, DeliveryStatus>;
  attempts: ColumnType<number, number | undefined, number>;
  /** The validated fields the bot acts on (not GitHub's whole body, which may be a megabyte of commits). */
  payload: Json<unknown>;
  /** What processing did, for people reading the table: "refreshed …", "ignored: …". */
  result: string | null;
  error: string | null;
  received_at: Timestamp;
  processed_at: Timestamp | null;
  /** When a queued or failed delivery is due (again); null once done or given up. */
  next_attempt_at: Timestamp | null;
  /** A process is working on it until then; past it, any process's sweeper may take it over. */
  claimed_until: Timestamp | null;
  /** The per-config hook whose secret verified it (it may change that config only); null: the operator's secret (migration 0006). */
  hook_id: ColumnType<string | null, string | null | undefined, string | null>;
}

/** A guild prompt config's own webhook (migration 0006); its secret is in the vault (`webhook-secret`). */
export interface PromptConfigWebhooksTable {
  hook_id: string;
  guild_id: string;
  created_by: string;
  created_at: Timestamp;
  rotated_at: Timestamp;
  last_delivery_at: Timestamp | null;
  verified_at: Timestamp | null;
}

export interface WebhookTables {
  webhook_deliveries: WebhookDeliveriesTable;
  prompt_config_webhooks: PromptConfigWebhooksTable;
}
