import type { Kysely, Selectable } from 'kysely';
import type { Database, GuildPromptConfigsTable } from '../db/schema.ts';
import { outcomeErrors } from './outcome-text.ts';
import { headOf, isSuccess, type RefreshOutcome } from './refresh-outcome.ts';

/** A guild's prompt repository setting, as the engine uses it. */
export interface PromptConfig {
  guildId: string;
  repoUrl: string;
  /** REST root of the GitHub that hosts the repo (github.com's or an Enterprise server's). */
  apiBaseUrl: string;
  owner: string;
  repo: string;
  branch: string;
  enabled: boolean;
  /** A token for a private repo is stored in the vault (the value is never loaded here). */
  hasToken: boolean;
  lastSyncStatus: string | null;
  lastSyncCommit: string | null;
  lastSyncAt: Date | null;
  lastSyncErrors: string[];
  lastPushAt: Date | null;
  /** Set by webhooks when the repository was renamed, transferred or deleted. */
  repoEvent: string | null;
  updatedBy: string;
  updatedAt: Date;
}

export const GITHUB_TOKEN_PURPOSE = 'github-token';

/** What `/prompt-config set` saves: where the repository is, and who saved it. */
export type SavePromptConfig = Pick<PromptConfig, 'guildId' | 'repoUrl' | 'apiBaseUrl' | 'owner' | 'repo' | 'branch'> & { actorId: string };

/**
 * Guild prompt configs with an in-memory copy for the resolver's hot path.
 * The copy of one guild is dropped whenever its config changes (here, or in
 * another process through invalidation), so the next resolution reloads it.
 */
export class PromptConfigStore {
  /** null: loaded, the guild has no config. */
  private readonly cache = new Map<string, PromptConfig | null>();

  constructor(private readonly db: Kysely<Database>) {}

  /** Memory only: undefined when not loaded yet. */
  cached(guildId: string): PromptConfig | null | undefined {
    return this.cache.get(guildId);
  }

  async get(guildId: string): Promise<PromptConfig | null> {
    const hit = this.cache.get(guildId);
    if (hit !== undefined) return hit;
    const row = await this.selectConfigs().where('c.guild_id', '=', guildId).executeTakeFirst();
    const config = row === undefined ? null : toConfig(row, row.token_key_id !== null);
    this.cache.set(guildId, config);
    return config;
  }

  /** Every config that reads this repository (webhooks), or only this branch of it. */
  async byRepository(owner: string, repo: string, branch?: string): Promise<PromptConfig[]> {
    let query = this.selectConfigs()
      .where((eb) => eb(eb.fn('lower', ['c.owner']), '=', owner.toLowerCase()))
      .where((eb) => eb(eb.fn('lower', ['c.repo']), '=', repo.toLowerCase()));
    if (branch !== undefined) query = query.where('c.branch', '=', branch);
    const rows = await query.execute();
    return rows.map((row) => toConfig(row, row.token_key_id !== null));
  }

  async save(input: SavePromptConfig): Promise<void> {
    const now = new Date();
    const setting = {
      repo_url: input.repoUrl,
      api_host: input.apiBaseUrl,
      owner: input.owner,
      repo: input.repo,
      branch: input.branch,
      enabled: true,
      updated_by: input.actorId,
      updated_at: now,
    };
    await this.db
      .insertInto('guild_prompt_configs')
      .values({ guild_id: input.guildId, created_by: input.actorId, created_at: now, ...setting })
      // A new repository starts with no sync record and no repository event of the old one.
      .onConflict((oc) =>
        oc.column('guild_id').doUpdateSet({
          ...setting,
          last_sync_status: null,
          last_sync_commit: null,
          last_sync_at: null,
          last_sync_errors: null,
          repo_event: null,
        }),
      )
      .execute();
    this.invalidate(input.guildId);
  }

  async remove(guildId: string): Promise<boolean> {
    const result = await this.db.deleteFrom('guild_prompt_configs').where('guild_id', '=', guildId).executeTakeFirst();
    this.invalidate(guildId);
    return Number(result.numDeletedRows) > 0;
  }

  /**
   * The same sync result for every guild served from one snapshot, in one
   * format whatever ran the refresh (a command, a push, the background), so
   * `/prompt-config status` reads alike after each.
   */
  async recordSync(guildIds: readonly string[], outcome: RefreshOutcome, repo: string, commit: string | null = headOf(outcome)): Promise<void> {
    if (guildIds.length === 0) return;
    await this.db
      .updateTable('guild_prompt_configs')
      .set({
        last_sync_status: isSuccess(outcome) ? 'ok' : outcome.kind,
        last_sync_commit: commit,
        last_sync_at: new Date(),
        last_sync_errors: JSON.stringify(outcomeErrors(outcome, repo)),
      })
      .where('guild_id', 'in', guildIds)
      .execute();
    for (const id of guildIds) this.invalidate(id);
  }

  async recordPush(guildIds: string[], at: Date): Promise<void> {
    if (guildIds.length === 0) return;
    await this.db.updateTable('guild_prompt_configs').set({ last_push_at: at }).where('guild_id', 'in', guildIds).execute();
    for (const id of guildIds) this.invalidate(id);
  }

  async recordRepoEvent(guildIds: string[], event: string): Promise<void> {
    if (guildIds.length === 0) return;
    await this.db.updateTable('guild_prompt_configs').set({ repo_event: event }).where('guild_id', 'in', guildIds).execute();
    for (const id of guildIds) this.invalidate(id);
  }

  /** Configs with whether a token is stored (the key id says so; the value is never read here). */
  private selectConfigs() {
    return this.db
      .selectFrom('guild_prompt_configs as c')
      .leftJoin('secrets as s', (join) => join.onRef('s.guild_id', '=', 'c.guild_id').on('s.purpose', '=', GITHUB_TOKEN_PURPOSE))
      .selectAll('c')
      .select('s.key_id as token_key_id');
  }

  invalidate(guildId: string): void {
    this.cache.delete(guildId);
  }

  invalidateAll(): void {
    this.cache.clear();
  }
}

type Row = Selectable<GuildPromptConfigsTable>;

function toConfig(row: Row, hasToken: boolean): PromptConfig {
  const errors = Array.isArray(row.last_sync_errors) ? row.last_sync_errors.map(String) : [];
  return {
    guildId: row.guild_id,
    repoUrl: row.repo_url,
    apiBaseUrl: row.api_host,
    owner: row.owner,
    repo: row.repo,
    branch: row.branch,
    enabled: row.enabled,
    hasToken,
    lastSyncStatus: row.last_sync_status,
    lastSyncCommit: row.last_sync_commit,
    lastSyncAt: row.last_sync_at === null ? null : new Date(row.last_sync_at),
    lastSyncErrors: errors,
    lastPushAt: row.last_push_at === null ? null : new Date(row.last_push_at),
    repoEvent: row.repo_event,
    updatedBy: row.updated_by,
    updatedAt: new Date(row.updated_at),
  };
}
