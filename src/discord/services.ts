import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import type { Database } from '../db/schema.ts';
import type { Chat } from '../chat/chat.ts';
import type { Summarizer } from '../summaries/summarize.ts';
import type { LlmService } from '../llm/service.ts';
import type { Logger } from '../log/logger.ts';
import type { CorrelationScope } from '../process/correlation.ts';
import type { PromptEngine } from '../prompts/engine.ts';
import type { Clock } from '../resilience/clock.ts';
import type { Vault } from '../vault/vault.ts';
import type { GithubAppLinking } from '../github-app/linking.ts';
import type { ConfigHookStore } from '../webhooks/config-hooks.ts';
import type { DigestServices } from './digest/services.ts';
import type { AdminNotices } from '../notices/admin-notice.ts';

/** Each guild config's own GitHub webhook (`/prompt-config webhook`). */
export interface WebhookServices {
  hooks: ConfigHookStore;
  /** PUBLIC_URL, for the payload URL; undefined when the operator did not set it. */
  publicUrl: string | undefined;
  /** Tells this process's webhook route that a guild's secret changed. */
  forgetGuild(guildId: string): void;
}

/** Everything command handlers may use, passed in by the composition root. */
export interface BotServices {
  logger: Logger;
  db: Kysely<Database>;
  vault: Vault;
  prompts: PromptEngine;
  metrics: Registry;
  clock: Clock;
  summarizer: Summarizer;
  chat: Chat;
  llm: LlmService;
  /** Set when the operator configured the GitHub App's install flow (/prompt-config github-app). */
  githubApp?: GithubAppLinking;
  webhooks: WebhookServices;
  /** Where the running interaction's correlation id is kept, for process-level error logs. */
  correlation?: CorrelationScope;
  /** /digest: the deployment's shard count (which process runs a digest); absent means one. */
  digests?: DigestServices;
  /** The admin notices sink (src/notices); absent: notices go nowhere. */
  notices?: AdminNotices;
}
