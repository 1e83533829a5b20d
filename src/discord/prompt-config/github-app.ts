import type { ChatInputCommandInteraction } from 'discord.js';
import { recordAudit } from '../../audit/audit-log.ts';
import type { InstallationLink } from '../../prompts/sources/app-installations.ts';
import type { CommandContext } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { discordTime, inlineCode } from '../format/text.ts';
import { deferOnce } from '../respond.ts';
import { requireGuildAdmin } from './access.ts';
import { replyPrivately } from '../shared/private-reply.ts';

const NOT_CONFIGURED =
  'This bot does not read prompt repositories as a GitHub App: its operator has not set GITHUB_APP_SLUG, GITHUB_APP_CLIENT_ID and ' +
  'GITHUB_APP_CLIENT_SECRET (with GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY). Use `/prompt-config token` for a private repository instead.';

/**
 * `/prompt-config github-app [unlink]`: hands a server admin a one-time
 * install link for the bot's GitHub App, bound to this server and to them,
 * and lists the installations linked so far. Installing from the link, as an
 * admin of the GitHub account, is what links an installation: naming a
 * repository never does. With `unlink`, removes a link.
 */
export async function runGithubApp(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = requireGuildAdmin(interaction);
  const linking = ctx.services.githubApp;
  if (linking === undefined) throw new UserFacingError(NOT_CONFIGURED);
  await deferOnce(interaction, true);
  const unlink = interaction.options.getString('unlink');
  if (unlink !== null) {
    const id = unlink.trim();
    if (!/^[1-9][0-9]{0,15}$/.test(id)) throw new UserFacingError(`${inlineCode(id, 30)} is not an installation id: use the number \`/prompt-config github-app\` lists.`);
    const removed = await linking.unlink(guildId, Number(id));
    if (!removed) throw new UserFacingError(`Installation ${id} is not linked to this server; \`/prompt-config github-app\` lists the linked ones.`);
    await recordAudit(ctx.services.db, { guildId, actorId: interaction.user.id, action: 'prompt-config.github-app.unlink', details: { installation: Number(id) }, correlationId: ctx.correlationId });
    ctx.services.prompts.invalidateGuild(guildId);
    ctx.logger.info({ installation: Number(id) }, 'GitHub App installation unlinked from the guild');
    await replyPrivately(interaction, {
      content: `Installation ${id} is no longer linked to this server: from the next refresh on, its repositories are read without it (public ones anonymously; private ones not at all).`,
    });
    return;
  }
  const { url, expiresAt } = await linking.installLink(guildId, interaction.user.id);
  const links = await linking.links(guildId);
  ctx.logger.info({ linked: links.length }, 'GitHub App install link issued');
  await replyPrivately(interaction, {
    content: [
      `**Link this server to the bot's GitHub App** — [install or configure the App](${url})`,
      '',
      `1. Open the link signed in to GitHub as an owner of the account (your user or an organization) that owns the prompt repository.`,
      '2. Choose that account, give the App access to the prompt repository (or all of them), and authorize it when GitHub asks: that is how the bot checks that you administer the account.',
      '3. GitHub sends you back to a page that says what was linked. Then `/prompt-config set` the repository, or `/prompt-config refresh`.',
      '',
      `The link works once, for you and for this server, until ${discordTime(expiresAt, 't')}. Do not share it.`,
      '',
      linkedText(links),
    ].join('\n'),
  });
}

function linkedText(links: InstallationLink[]): string {
  if (links.length === 0) return 'No installation is linked to this server yet.';
  const lines = links.map(
    (link) =>
      `• ${inlineCode(String(link.installationId))} on ${link.accountType === 'Organization' ? 'organization' : 'user'} ${inlineCode(link.accountLogin, 40)}, approved by ${inlineCode(link.linkedByGitHubLogin, 40)} ${discordTime(link.linkedAt, 'R')}`,
  );
  return `Linked installations (remove one with \`/prompt-config github-app unlink:<id>\`):\n${lines.join('\n')}`;
}
