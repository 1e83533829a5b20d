import type { ChatInputCommandInteraction } from 'discord.js';
import type { CommandContext } from '../command.ts';
import { replyPrivately } from '../shared/private-reply.ts';
import { deferOnce } from '../respond.ts';
import { requireAiAdmin } from './access.ts';
import type { KeyProviderList } from './keys.ts';
import { statusEmbed } from './status-report.ts';
import { noticesEmbeds } from '../shared/notices-status.ts';

/** `/ai-config status`. */
export async function runStatus(interaction: ChatInputCommandInteraction, ctx: CommandContext, keyProviders: KeyProviderList): Promise<void> {
  const guildId = requireAiAdmin(interaction);
  await deferOnce(interaction, true);
  const { llm } = ctx.services;
  const [settings, providers, budgetDay] = await Promise.all([
    llm.settings.get(guildId),
    keyProviders(),
    // The rest of the status is still worth showing when today's budget cannot be read.
    llm.usage.budgetToday(guildId).catch(() => undefined),
  ]);
  const keys = await Promise.all(providers.map(async (provider) => ({ provider, storedAt: await llm.keys.storedAt(guildId, provider) })));
  // The summary and chat targets, each once: this server's view only (its own key's circuit, never another server's).
  const seen = new Set<string>();
  const targets = [...llm.guildStatus('summarize', guildId), ...llm.guildStatus('chat', guildId)].filter((t) => !seen.has(t.target) && seen.add(t.target));
  await replyPrivately(interaction, { embeds: [statusEmbed({ settings, enabled: llm.enabledProviders(), keys, targets, budgetDay })] });
  // A message of its own: the status embed may use a whole message's embed budget.
  const notices = await noticesEmbeds(ctx, guildId);
  if (notices.length > 0) await replyPrivately(interaction, { embeds: notices });
}
