/**
 * Whether a summary may read a channel (which kinds it can read is
 * `../shared/channel-kinds.ts`): the member who asks
 * must be able to read its history (a summary must never reveal a channel
 * to someone who cannot open it), and so must the bot. Who else may see the
 * summary once it is made (everyone who can view the place it is posted)
 * is decided where it is shown, by `../visibility/shown-to.ts`.
 */
import {
  ChannelType,
  PermissionFlagsBits,
  type CategoryChannel,
  type GuildBasedChannel,
  type GuildMember,
  type GuildTextBasedChannel,
} from 'discord.js';
import { UserFacingError } from '../errors.ts';

const READ = [PermissionFlagsBits.ViewChannel, PermissionFlagsBits.ReadMessageHistory];

/**
 * @throws UserFacingError unless `member` may read `channel`'s history.
 * `invokedHere`: the member runs the command in that very channel, which for
 * a private thread proves they were let in.
 */
export async function requireMemberCanRead(channel: GuildTextBasedChannel, member: GuildMember, invokedHere: boolean): Promise<void> {
  const refused = new UserFacingError(`You can't read the history of <#${channel.id}>, so I won't summarize it for you.`);
  if (!channel.permissionsFor(member).has(READ)) throw refused;
  if (channel.type !== ChannelType.PrivateThread || invokedHere || channel.ownerId === member.id) return;
  if (channel.permissionsFor(member).has(PermissionFlagsBits.ManageThreads)) return;
  // A private thread is readable only by its members (and thread managers).
  const joined = await channel.members.fetch({ member: member.id }).then(
    () => true,
    () => false,
  );
  if (!joined) throw refused;
}

/**
 * @throws UserFacingError unless the bot may read `channel`'s history.
 * `bot`: the bot's member when the caller has it (a REST-only client knows no `members.me`).
 */
export async function requireBotCanRead(channel: GuildTextBasedChannel, bot?: GuildMember): Promise<void> {
  const me = bot ?? channel.guild.members.me ?? (await channel.guild.members.fetchMe().catch(() => null));
  if (me === null || !channel.permissionsFor(me).has(READ)) {
    throw new UserFacingError(`I can't read the history of <#${channel.id}>: I need the View Channel and Read Message History permissions there.`);
  }
}

/** The Discord category a channel sits in (a thread: its parent's). */
export function categoryOf(channel: GuildBasedChannel): CategoryChannel | null {
  if (channel.isThread()) return channel.parent?.parent ?? null;
  return channel.parent;
}
