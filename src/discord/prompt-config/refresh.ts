import type { ChatInputCommandInteraction } from 'discord.js';
import { describeOutcome } from '../../prompts/outcome-text.ts';
import type { CommandContext } from '../command.ts';
import { inlineCode } from '../format/text.ts';
import { deferOnce } from '../respond.ts';
import { requireGuildAdmin } from './access.ts';
import { replyPrivately } from '../shared/private-reply.ts';
import { repositoryReportEmbed } from './repository-report.ts';

/** `/prompt-config refresh`: fetch the branch now and say what actually happened and what serves. */
export async function runRefresh(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = requireGuildAdmin(interaction);
  await deferOnce(interaction, true);
  const { prompts } = ctx.services;
  const config = await prompts.config(guildId);
  if (config === null) {
    await replyPrivately(interaction, {
      content: 'No prompt repository is configured for this server, so there is nothing to refresh. Set one with `/prompt-config set`.',
    });
    return;
  }
  const report = await prompts.refresh(guildId);
  if (report === undefined) {
    await replyPrivately(interaction, { content: 'The prompt repository was removed meanwhile; nothing to refresh.' });
    return;
  }
  ctx.logger.info({ repo: report.repo, branch: report.branch, commit: report.commit, outcome: report.outcome.kind }, 'prompt repository refreshed');
  const note = describeOutcome(report.outcome, report.repo, { code: (text) => inlineCode(text) });
  await replyPrivately(interaction, { embeds: [repositoryReportEmbed(report, 'refreshed', note)] });
}
