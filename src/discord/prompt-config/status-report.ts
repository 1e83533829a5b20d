import type { APIEmbed } from 'discord.js';
import type { PromptStatus } from '../../prompts/engine.ts';
import { formatProblem } from '../../prompts/problems.ts';
import type { SecretMetadata } from '../../vault/vault.ts';
import type { FailedDelivery } from '../../webhooks/delivery-store.ts';
import { EmbedColors, boundedEmbed } from '../format/embed.ts';
import { DiscordLimits } from '../format/limits.ts';
import { boundedCodeLines, discordTimeWithAge, inlineCode, shortSha, truncate } from '../format/text.ts';
import { LEVEL_TEXT } from './level-text.ts';

const ERRORS_SHOWN = 3;

/**
 * `/prompt-config status`: this guild's data only. Which repository, which
 * commit serves, how the last sync and push went, what is wrong, whether a
 * token is stored (never its value) and which level of the chain serves now.
 */
export function statusEmbed(
  status: PromptStatus,
  token: SecretMetadata | undefined,
  webhook?: string,
  failedDeliveries: readonly FailedDelivery[] = [],
): APIEmbed {
  const config = status.config;
  const tokenText =
    token === undefined
      ? 'not set (public repositories only)'
      : `set ${discordTimeWithAge(token.updatedAt)}${token.createdBy ? ` by <@${token.createdBy}>` : ''}`;
  if (config === null) {
    return boundedEmbed({
      title: 'No prompt repository configured',
      color: EmbedColors.info,
      description:
        `Serving now: ${LEVEL_TEXT[status.level]}.\n` +
        'Set your own with `/prompt-config set repo_url:owner/name`, and check a request with `/prompt-config test`.',
      fields: [{ name: 'Token', value: tokenText }],
    });
  }

  const errors = collectErrors(status);
  const lastSync =
    config.lastSyncAt === null
      ? 'never'
      : `${config.lastSyncStatus === 'ok' ? 'ok' : (config.lastSyncStatus ?? 'unknown')} at ${discordTimeWithAge(config.lastSyncAt)}` +
        (config.lastSyncCommit ? ` (commit ${inlineCode(shortSha(config.lastSyncCommit))})` : '');
  const events: string[] = [];
  if (config.repoEvent !== null) events.push(truncate(config.repoEvent, 400));
  if (status.denied !== null) {
    const advice =
      status.denied.status === 404
        ? 'check that the repository and branch exist' +
          (token === undefined ? ', and if it is private, add a token with `/prompt-config token`.' : ' and that the token can read it.')
        : 'check the token (`/prompt-config token`) and its access to the repository.';
    events.push(
      `GitHub has answered ${status.denied.status} since ${discordTimeWithAge(status.denied.since)}, so the bundled prompts serve; the last snapshot comes back at once if access returns. To fix: ${advice}`,
    );
  }
  const healthy = errors.length === 0 && events.length === 0 && status.level === 'custom';

  return boundedEmbed({
    title: `${config.owner}/${config.repo}@${config.branch}`,
    url: config.repoUrl.startsWith('https://') || config.repoUrl.startsWith('http://') ? config.repoUrl : undefined,
    color: healthy ? EmbedColors.ok : status.level === 'custom' || status.level === 'cached' ? EmbedColors.warning : EmbedColors.error,
    description: `Serving now: ${LEVEL_TEXT[status.level]}.`,
    fields: [
      {
        name: 'Current commit',
        value:
          status.commit === null
            ? 'none read yet'
            : `${inlineCode(shortSha(status.commit))}${status.checkedAt === null ? '' : `, confirmed ${discordTimeWithAge(status.checkedAt)}`}`,
        inline: true,
      },
      { name: 'Branch', value: inlineCode(config.branch), inline: true },
      { name: 'Last sync', value: lastSync },
      {
        name: 'Last push received',
        value: config.lastPushAt === null ? 'none yet (pushes show here once the GitHub webhook is set up)' : discordTimeWithAge(config.lastPushAt),
      },
      { name: 'Token', value: tokenText },
      webhook !== undefined && { name: 'Webhook', value: webhook },
      {
        name: errors.length === 0 ? 'Errors' : `Errors (first ${Math.min(ERRORS_SHOWN, errors.length)} of ${errors.length})`,
        value: errors.length === 0 ? 'none' : boundedCodeLines(errors.slice(0, ERRORS_SHOWN), { max: DiscordLimits.fieldValue, total: errors.length }),
      },
      events.length > 0 && { name: 'Repository events', value: events.join('\n') },
      failedDeliveries.length > 0 && {
        name: 'Webhook deliveries that failed',
        value: failedDeliveries
          .map((d) => `${inlineCode(d.deliveryId.slice(0, 36))} (${d.event}, ${d.attempts} attempts) ${discordTimeWithAge(d.at)}: ${truncate(d.error ?? 'no reason recorded', 300)}`)
          .join('\n'),
      },
    ],
  });
}

/**
 * Validation errors of the newest commit and the sync problems recorded by
 * the last refresh, without repeats. Sync problems are the lines
 * `outcomeErrors` wrote, whether a refresh or a push (in any process) made
 * them, so status reads the same either way.
 */
function collectErrors(status: PromptStatus): string[] {
  const out: string[] = [];
  const add = (line: string): void => {
    if (line !== '' && !out.includes(line)) out.push(line);
  };
  if (status.invalidHead !== null) {
    for (const p of status.invalidHead.problems.filter((p) => p.severity === 'error')) add(formatProblem(p));
  }
  for (const line of status.config?.lastSyncErrors ?? []) add(line);
  return out;
}
