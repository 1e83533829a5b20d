import type { ChatInputCommandInteraction } from 'discord.js';
import { recordAudit } from '../../audit/audit-log.ts';
import type { ConfigHook } from '../../webhooks/config-hooks.ts';
import { configWebhookUrl } from '../../webhooks/github-route.ts';
import type { CommandContext } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { EmbedColors, boundedEmbed } from '../format/embed.ts';
import { discordTimeWithAge, inlineCode } from '../format/text.ts';
import { deferOnce } from '../respond.ts';
import { replyPrivately } from '../shared/private-reply.ts';
import { requireSecretStorage, storeSecret } from '../shared/secret-modal.ts';
import { requireGuildAdmin } from './access.ts';

/** Where the payload URL points when PUBLIC_URL is not set: the admin replaces the host. */
const PLACEHOLDER_BASE = "https://<your bot's host>";

const LOCKED = 'a webhook secret cannot be created';

/**
 * `/prompt-config webhook [rotate]`: this server's own GitHub webhook. The
 * secret is made by the bot and shown once, in this ephemeral reply only
 * (never logged, never shown again); `rotate` replaces it and the old one
 * stops verifying at once.
 */
export async function runWebhook(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = requireGuildAdmin(interaction);
  const rotate = interaction.options.getBoolean('rotate') === true;
  await deferOnce(interaction, true);
  const { prompts, webhooks, clock } = ctx.services;
  const config = await prompts.config(guildId);
  if (config === null) throw new UserFacingError('Set a prompt repository first with `/prompt-config set`; the webhook belongs to it.');
  const existing = await webhooks.hooks.forGuild(guildId);
  const base = webhooks.publicUrl ?? PLACEHOLDER_BASE;
  if (existing !== undefined && !rotate) {
    await replyPrivately(interaction, { embeds: [existingEmbed(existing, configWebhookUrl(base, existing.hookId), webhooks.publicUrl === undefined)] });
    return;
  }
  requireSecretStorage(ctx, LOCKED);
  const issued = await storeSecret(() => webhooks.hooks.issue(guildId, interaction.user.id, new Date(clock.now())), {
    locked: LOCKED,
    failed: 'storing the webhook secret failed',
  });
  webhooks.forgetGuild(guildId);
  await recordAudit(ctx.services.db, {
    guildId,
    actorId: interaction.user.id,
    action: issued.rotated ? 'prompt-config.webhook.rotate' : 'prompt-config.webhook.create',
    correlationId: ctx.correlationId,
  });
  ctx.logger.info({ rotated: issued.rotated }, issued.rotated ? 'webhook secret rotated' : 'webhook created');
  const url = configWebhookUrl(base, issued.hookId);
  const repo = `${config.owner}/${config.repo}`;
  await replyPrivately(interaction, {
    embeds: [
      boundedEmbed({
        title: issued.rotated ? 'New webhook secret (the old one no longer works)' : 'Webhook for this server',
        color: issued.rotated ? EmbedColors.warning : EmbedColors.ok,
        description:
          `In ${inlineCode(repo)} on GitHub: **Settings → Webhooks → ${issued.rotated ? 'edit the webhook' : 'Add webhook'}**, then:\n` +
          `• Payload URL: ${inlineCode(url, 300)}\n` +
          '• Content type: `application/json`\n' +
          `• Secret: ${inlineCode(issued.secret.reveal(), 200)}\n` +
          '• Events: **Just the push event** (tick **Repositories** too for renames and deletions)\n\n' +
          '**This secret is shown only now.** Lost it? Run `/prompt-config webhook rotate:True` for a new one.' +
          (webhooks.publicUrl === undefined ? `\n\nThe bot does not know its public address (the operator can set PUBLIC_URL): replace ${inlineCode(PLACEHOLDER_BASE)} with it.` : ''),
      }),
    ],
  });
}

function existingEmbed(hook: ConfigHook, url: string, placeholder: boolean): ReturnType<typeof boundedEmbed> {
  return boundedEmbed({
    title: 'Webhook for this server',
    color: EmbedColors.info,
    description:
      `Payload URL: ${inlineCode(url, 300)}\n` +
      `Secret: set ${discordTimeWithAge(hook.rotatedAt)}; it was shown once and is not shown again. ` +
      'Run `/prompt-config webhook rotate:True` to replace it (the old one stops working at once).' +
      (placeholder ? "\n\nThe bot does not know its public address (the operator can set PUBLIC_URL): replace the host with it." : ''),
    fields: [{ name: 'Deliveries', value: webhookSummary(hook) }],
  });
}

/** For `/prompt-config status` and the reply above: never the secret, only whether and when. */
export function webhookSummary(hook: ConfigHook | undefined): string {
  if (hook === undefined) return 'not set up: pushes go live when the cache expires. `/prompt-config webhook` gives this server its own.';
  const lines = [`secret set ${discordTimeWithAge(hook.rotatedAt)}`];
  lines.push(hook.lastDeliveryAt === null ? 'no delivery received yet' : `last delivery ${discordTimeWithAge(hook.lastDeliveryAt)}`);
  if (hook.verifiedAt !== null) lines.push(`confirmed by GitHub for this repository ${discordTimeWithAge(hook.verifiedAt)}`);
  return lines.join('; ');
}
