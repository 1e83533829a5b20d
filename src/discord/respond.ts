import {
  MessageFlags,
  type InteractionEditReplyOptions,
  type InteractionReplyOptions,
  type RepliableInteraction,
} from 'discord.js';

/**
 * Replies whatever state the interaction is in: first answer, after a defer,
 * or after a reply. Handlers use this instead of choosing between reply,
 * editReply and followUp, so the dispatcher's safety-net defer never turns a
 * later answer into "already acknowledged".
 */
export async function respond(
  interaction: RepliableInteraction,
  options: InteractionReplyOptions & InteractionEditReplyOptions & { ephemeral?: boolean },
): Promise<void> {
  const { ephemeral, ...rest } = options;
  if (interaction.deferred && !interaction.replied) {
    await interaction.editReply(rest as InteractionEditReplyOptions);
    return;
  }
  if (interaction.replied) {
    await interaction.followUp({ ...(rest as InteractionReplyOptions), ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}) });
    return;
  }
  await interaction.reply({ ...(rest as InteractionReplyOptions), ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}) });
}

/** Defers unless already acknowledged; `ephemeral` only matters for the first acknowledgement. */
export async function deferOnce(interaction: RepliableInteraction, ephemeral: boolean): Promise<void> {
  if (interaction.deferred || interaction.replied) return;
  await interaction.deferReply(ephemeral ? { flags: MessageFlags.Ephemeral } : {});
}
