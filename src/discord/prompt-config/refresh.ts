import type { ChatInputCommandInteraction } from 'discord.js';
import type { CommandContext } from '../command.ts';
import { inlineCode, shortSha } from '../format/text.ts';
import { deferOnce } from '../respond.ts';
import { requireGuildAdmin } from './access.ts';
import { replyPrivately } from './reply.ts';
import { repositoryReportEmbed } from './repository-report.ts';

/** `/prompt-config refresh`: fetch the branch now and say which commit serves, or why none could be read. */
export async function runRefresh(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = requireGuildAdmin(interaction);
  await deferOnce(interaction, true);
  const { prompts } = ctx.services;
  const config = await prompts.configs.get(guildId);
  if (config === null) {
    await replyPrivately(interaction, {
      content: 'No prompt repository is configured for this server, so there is nothing to refresh. Set one with `/prompt-config set`.',
    });
    return;
  }
  const before = prompts.cache.peek(prompts.targetFor(config).cacheKey)?.commit ?? config.lastSyncCommit;
  const report = await prompts.refresh(guildId);
  if (report === undefined) {
    await replyPrivately(interaction, { content: 'The prompt repository was removed meanwhile; nothing to refresh.' });
    return;
  }
  ctx.logger.info({ repo: report.repo, branch: report.branch, commit: report.commit, ok: report.ok }, 'prompt repository refreshed');
  let note: string;
  if (report.commit === null) note = 'No commit could be read.';
  else if (before === null || before === undefined) note = `Now at commit ${inlineCode(shortSha(report.commit))}.`;
  else if (before === report.commit) note = `Unchanged: still at commit ${inlineCode(shortSha(report.commit))}.`;
  else note = `New commit ${inlineCode(shortSha(report.commit))} (was ${inlineCode(shortSha(before))}).`;
  if (!report.ok && report.commit !== null) {
    note += ' This commit does not pass validation: the last valid snapshot (if any) keeps serving; `/prompt-config status` shows which level serves.';
  }
  await replyPrivately(interaction, { embeds: [repositoryReportEmbed(report, 'refreshed', note)] });
}
