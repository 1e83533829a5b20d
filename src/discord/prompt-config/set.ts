import type { ButtonInteraction, ChatInputCommandInteraction } from 'discord.js';
import { recordAudit } from '../../audit/audit-log.ts';
import { describeOutcome } from '../../prompts/outcome-text.ts';
import type { RepositoryReport } from '../../prompts/engine.ts';
import type { PromptConfig } from '../../prompts/prompt-config-store.ts';
import type { CommandContext } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { describeDuration, inlineCode } from '../format/text.ts';
import { deferOnce } from '../respond.ts';
import { requireGuildAdmin } from './access.ts';
import type { ConfirmationKind } from '../shared/pending-confirmations.ts';
import { answerConfirmation, confirmOrCancel, confirmationRow, openConfirmation } from './confirm.ts';
import { replyPrivately } from '../shared/private-reply.ts';
import { passes, readFailed, repositoryReportEmbed } from './repository-report.ts';

export interface SetCandidate {
  config: Omit<PromptConfig, 'updatedAt' | 'updatedBy'>;
  report: RepositoryReport;
}

const SET_BUTTONS = confirmOrCancel({ action: 'save-anyway', label: 'Save anyway (fix later)' }, 'cancel-set');

/**
 * `/prompt-config set`: reads the repository as the engine will, shows what
 * it found, and saves it only when it passes; a failing one can still be
 * saved by the same admin on purpose (e.g. private until a token is added).
 */
export async function runSet(
  interaction: ChatInputCommandInteraction,
  ctx: CommandContext,
  confirm: ConfirmationKind<SetCandidate>,
): Promise<void> {
  const guildId = requireGuildAdmin(interaction);
  const repoUrl = interaction.options.getString('repo_url', true);
  const branch = interaction.options.getString('branch') ?? undefined;
  await deferOnce(interaction, true);
  const inspected = await ctx.services.prompts.inspect({ guildId, repoUrl, ...(branch === undefined ? {} : { branch }) });
  if (!inspected.ok) throw new UserFacingError(inspected.message);
  const { config, report } = inspected;
  ctx.logger.info(
    { repo: report.repo, branch: report.branch, commit: report.commit, outcome: report.outcome.kind, problems: report.problems.length },
    'prompt repository inspected',
  );

  if (passes(report)) {
    await saveConfig(ctx, { config, report }, interaction.user.id, false);
    await replyPrivately(interaction, {
      embeds: [repositoryReportEmbed(report, 'saved', 'Requests in this server now use these prompts. Check one with `/prompt-config test`.')],
      components: [],
    });
    return;
  }

  const nonce = openConfirmation(interaction, ctx, {
    kind: confirm,
    guildId,
    data: { config, report },
    buttons: SET_BUTTONS,
    expiredOutcome: 'nothing was saved.',
    expiredEmbeds: (data) => [repositoryReportEmbed(data.report, 'not-saved')],
  });
  // GitHub answers 404 to strangers: with no token, that usually means a private repository.
  const outcome = report.outcome;
  const hint =
    outcome.kind === 'denied' && !config.hasToken
      ? 'Private repository? Save it anyway, then add a token with `/prompt-config token` and run `/prompt-config refresh`.'
      : outcome.kind === 'denied'
        ? 'Check the repository name and that the token can read it, then run `/prompt-config set` again.'
        : outcome.kind === 'failed'
          ? 'Try `/prompt-config set` again in a moment, or save it anyway and run `/prompt-config refresh` later.'
          : 'Fix the problems and run `/prompt-config set` again, or save it anyway and fix it later.';
  const note = readFailed(report) ? describeOutcome(outcome, report.repo, { code: (t) => inlineCode(t), serving: false }) : undefined;
  await replyPrivately(interaction, {
    content: `${hint} Only you can press these buttons, for ${describeDuration(confirm.timeoutMs)}.`,
    embeds: [repositoryReportEmbed(report, 'not-saved', note)],
    components: [confirmationRow(nonce, SET_BUTTONS)],
  });
}

export function onSetButton(
  interaction: ButtonInteraction,
  ctx: CommandContext,
  confirm: ConfirmationKind<SetCandidate>,
  action: 'save-anyway' | 'cancel-set',
  nonce: string | undefined,
): Promise<void> {
  return answerConfirmation(interaction, ctx, confirm, nonce, action === 'save-anyway', {
    cancelled: (data) => ({ content: 'Cancelled: nothing was saved.', embeds: [repositoryReportEmbed(data.report, 'cancelled')] }),
    confirmed: async ({ data }) => {
      await saveConfig(ctx, data, interaction.user.id, true);
      return {
        content: 'Saved. Until the repository passes validation, requests use the bundled prompts; `/prompt-config status` shows what is wrong.',
        embeds: [repositoryReportEmbed(data.report, 'saved-anyway')],
      };
    },
  });
}

async function saveConfig(ctx: CommandContext, candidate: SetCandidate, actorId: string, anyway: boolean): Promise<void> {
  const { services } = ctx;
  const { config, report } = candidate;
  await services.prompts.saveConfig({
    guildId: config.guildId,
    repoUrl: config.repoUrl,
    apiBaseUrl: config.apiBaseUrl,
    owner: config.owner,
    repo: config.repo,
    branch: config.branch,
    actorId,
  });
  // The snapshot inspect fetched is already in the cache under this config's key.
  services.prompts.invalidateGuild(config.guildId);
  await services.prompts.recordInspection(config.guildId, report).catch((error: unknown) =>
    ctx.logger.warn({ err: error }, 'could not record the sync result'),
  );
  await recordAudit(services.db, {
    guildId: config.guildId,
    actorId,
    action: 'prompt-config.set',
    details: { repo: report.repo, branch: report.branch, commit: report.commit, valid: passes(report), savedAnyway: anyway },
    correlationId: ctx.correlationId,
  });
  ctx.logger.info({ repo: report.repo, branch: report.branch, commit: report.commit, savedAnyway: anyway }, 'prompt repository saved');
}
