import type { Migration } from 'kysely';
import * as foundation from './0001_foundation.ts';
import * as promptSnapshots from './0002_prompt_snapshots.ts';
import * as llmUsage from './0003_llm_usage.ts';
import * as summariesAndChat from './0004_summaries_and_chat.ts';
import * as webhookDeliveries from './0005_webhook_deliveries.ts';
import * as promptConfigWebhooks from './0006_prompt_config_webhooks.ts';
import * as githubAppLinks from './0007_github_app_links.ts';
import * as promptRefreshState from './0009_prompt_refresh_state.ts';
import * as llmCallCacheTokens from './0011_llm_call_cache_tokens.ts';
import * as llmBudgetLedger from './0012_llm_budget_ledger.ts';
import * as llmSharedState from './0013_llm_shared_state.ts';
import * as jobsAndDigests from './0015_jobs_and_digests.ts';
import * as historyAndNotices from './0016_history_and_notices.ts';
import * as webSessions from './0017_web_sessions.ts';
import * as apiKeysAndFeeds from './0018_api_keys_and_feeds.ts';

/**
 * Every migration, in order. Listed statically rather than discovered on
 * disk so that any loader (tsx, vitest, a bundler) resolves them the same way.
 * Add a new file here with the next number.
 */
export const migrations: Record<string, Migration> = {
  '0001_foundation': foundation,
  '0002_prompt_snapshots': promptSnapshots,
  '0003_llm_usage': llmUsage,
  '0004_summaries_and_chat': summariesAndChat,
  '0005_webhook_deliveries': webhookDeliveries,
  '0006_prompt_config_webhooks': promptConfigWebhooks,
  '0007_github_app_links': githubAppLinks,
  '0009_prompt_refresh_state': promptRefreshState,
  '0011_llm_call_cache_tokens': llmCallCacheTokens,
  '0012_llm_budget_ledger': llmBudgetLedger,
  '0013_llm_shared_state': llmSharedState,
  '0015_jobs_and_digests': jobsAndDigests,
  '0016_history_and_notices': historyAndNotices,
  '0017_web_sessions': webSessions,
  '0018_api_keys_and_feeds': apiKeysAndFeeds,
};
