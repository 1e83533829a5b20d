import type { Kysely } from 'kysely';
import type { Timestamp } from '../../db/column-types.ts';
import type { Database } from '../../db/schema.ts';

/**
 * Which GitHub App installations serve which guild (migration
 * 0007_github_app_links). A row is written only after GitHub showed that
 * an admin of the installation's account approved the link for that guild
 * (src/github-app/); nothing else ever makes an installation's token serve
 * a guild.
 */

export interface GithubAppLinksTable {
  guild_id: string;
  /** GitHub's numeric installation id, as decimal text. */
  installation_id: string;
  account_login: string;
  account_type: 'User' | 'Organization';
  linked_by_discord_user: string;
  linked_by_github_login: string;
  linked_at: Timestamp;
}

export interface AppInstallationTables {
  github_app_links: GithubAppLinksTable;
}

export interface InstallationLink {
  guildId: string;
  installationId: number;
  accountLogin: string;
  accountType: 'User' | 'Organization';
  /** The Discord member who asked for the install link. */
  linkedByDiscordUser: string;
  /** The GitHub user who installed or approved, an admin of the account. */
  linkedByGitHubLogin: string;
  linkedAt: Date;
}

/** A guild may link this many installations; more is a misuse, not a setup. */
const MAX_LINKS_PER_GUILD = 20;

export class InstallationLinkStore {
  static over(db: Kysely<Database>): InstallationLinkStore {
    return new InstallationLinkStore(db);
  }

  private constructor(private readonly db: Kysely<Database>) {}

  /**
   * Links (or re-links, refreshing who and when) an installation to a guild.
   * False when the guild already holds MAX_LINKS_PER_GUILD other links.
   */
  async link(link: InstallationLink): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const existing = await tx
        .selectFrom('github_app_links')
        .select('installation_id')
        .where('guild_id', '=', link.guildId)
        .forUpdate()
        .execute();
      const id = String(link.installationId);
      if (!existing.some((row) => row.installation_id === id) && existing.length >= MAX_LINKS_PER_GUILD) return false;
      const linked = {
        account_login: link.accountLogin,
        account_type: link.accountType,
        linked_by_discord_user: link.linkedByDiscordUser,
        linked_by_github_login: link.linkedByGitHubLogin,
        linked_at: link.linkedAt,
      };
      await tx
        .insertInto('github_app_links')
        .values({ guild_id: link.guildId, installation_id: id, ...linked })
        .onConflict((c) => c.columns(['guild_id', 'installation_id']).doUpdateSet(linked))
        .execute();
      return true;
    });
  }

  /** The installation ids linked to a guild. */
  async installationsOf(guildId: string): Promise<Set<number>> {
    const rows = await this.db.selectFrom('github_app_links').select('installation_id').where('guild_id', '=', guildId).execute();
    return new Set(rows.map((row) => Number(row.installation_id)));
  }

  async forGuild(guildId: string): Promise<InstallationLink[]> {
    const rows = await this.db.selectFrom('github_app_links').selectAll().where('guild_id', '=', guildId).orderBy('linked_at').execute();
    return rows.map((row) => ({
      guildId: row.guild_id,
      installationId: Number(row.installation_id),
      accountLogin: row.account_login,
      accountType: row.account_type,
      linkedByDiscordUser: row.linked_by_discord_user,
      linkedByGitHubLogin: row.linked_by_github_login,
      linkedAt: new Date(row.linked_at),
    }));
  }

  /** True when a link was removed. */
  async unlink(guildId: string, installationId: number): Promise<boolean> {
    const result = await this.db
      .deleteFrom('github_app_links')
      .where('guild_id', '=', guildId)
      .where('installation_id', '=', String(installationId))
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
