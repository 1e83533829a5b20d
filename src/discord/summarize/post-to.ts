/**
 * `/summarize post_to:#channel`: where a summary may be posted besides the
 * channel the command runs in. The member who asks must be able to send
 * there, the bot must be able to post embeds there, and everyone who can
 * view it must be able to read the summarized channel (the visibility
 * invariant); otherwise the request is refused with the reason.
 */
import { PermissionFlagsBits, type GuildMember, type GuildTextBasedChannel } from 'discord.js';
import { UserFacingError } from '../errors.ts';
import type { Visibility } from '../visibility/audience.ts';
import { notPostedBecause, visibleToAudienceOf } from '../visibility/shown-to.ts';

const SEND = [PermissionFlagsBits.ViewChannel, PermissionFlagsBits.SendMessages];
const SEND_IN_THREAD = [PermissionFlagsBits.ViewChannel, PermissionFlagsBits.SendMessagesInThreads];

/**
 * @throws UserFacingError naming who cannot post there, or why not everyone there may read `source`.
 * `bot`: the bot's member, when the caller has it (a REST-only client knows no `members.me`).
 */
export async function requirePostable(destination: GuildTextBasedChannel, source: GuildTextBasedChannel, member: GuildMember, bot?: GuildMember): Promise<void> {
  const send = destination.isThread() ? SEND_IN_THREAD : SEND;
  if (!destination.permissionsFor(member).has(send)) throw new UserFacingError(`You can't send messages in <#${destination.id}>, so I won't post there for you.`);
  const me = bot ?? destination.guild.members.me ?? (await destination.guild.members.fetchMe().catch(() => null));
  if (me === null || !destination.permissionsFor(me).has([...send, PermissionFlagsBits.EmbedLinks])) {
    throw new UserFacingError(`I can't post in <#${destination.id}>: I need the View Channel, Send Messages and Embed Links permissions there.`);
  }
  await requireVisibleThere(destination, source);
}

/** @throws UserFacingError unless everyone who can view `destination` can read `source`; also checked again just before posting. */
export async function requireVisibleThere(destination: GuildTextBasedChannel, source: GuildTextBasedChannel): Promise<void> {
  // Undecidable counts as not visible: a summary is never posted where it might reveal its source.
  const verdict = await visibleToAudienceOf(destination, source).catch((): Visibility => ({ visible: false, why: { kind: 'unknown-channel' } }));
  if (!verdict.visible) throw new UserFacingError(notPostedBecause(verdict.why, destination.id, source.id));
}
