/**
 * `/summarize in_category:<category>`: which of a Discord category's
 * channels one combined summary reads. Every text or announcement channel
 * in it that both the member and the bot can read, in the order Discord
 * shows them, less those named in `exclude`, at most MAX_CATEGORY_CHANNELS;
 * what is left out and why comes back as notes for the reply.
 */
import { ChannelType, PermissionFlagsBits, type CategoryChannel, type GuildMember, type GuildTextBasedChannel } from 'discord.js';
import { UserFacingError } from '../errors.ts';

export const MAX_CATEGORY_CHANNELS = 10;

const READ = [PermissionFlagsBits.ViewChannel, PermissionFlagsBits.ReadMessageHistory];
const MENTION = /<#(\d{1,20})>/g;

export interface CategoryChannels {
  channels: GuildTextBasedChannel[];
  /** Said with the summary: channels left out for the bot's access or the bound. */
  notes: string[];
}

/** Channel ids from `exclude`: channel mentions (`#name` as Discord sends it) or plain names. */
export function excludedIds(text: string | null, candidates: readonly GuildTextBasedChannel[]): Set<string> {
  const out = new Set<string>();
  if (text === null) return out;
  for (const [, id] of text.matchAll(MENTION)) if (id !== undefined) out.add(id);
  const names = text.replace(MENTION, ' ').split(/[\s,]+/).map((n) => n.replace(/^#/, '').toLowerCase()).filter((n) => n !== '');
  for (const name of names) {
    const match = candidates.find((c) => c.name.toLowerCase() === name);
    if (match === undefined) throw new UserFacingError(`\`exclude\`: there is no channel named #${name} in that category; name channels as #name or pick them with #.`);
    out.add(match.id);
  }
  return out;
}

/** @throws UserFacingError when nothing in the category is left to read. `bot`: the bot's member, when the caller has it. */
export async function categoryChannels(category: CategoryChannel, member: GuildMember, exclude: string | null, bot?: GuildMember): Promise<CategoryChannels> {
  const me = bot ?? category.guild.members.me ?? (await category.guild.members.fetchMe().catch(() => null));
  const inCategory = [...category.guild.channels.cache.values()]
    .filter((c): c is GuildTextBasedChannel & { position: number } => c.parentId === category.id && (c.type === ChannelType.GuildText || c.type === ChannelType.GuildAnnouncement))
    .sort((a, b) => a.position - b.position || a.id.localeCompare(b.id));
  // A channel the member cannot read is never named to them, not even as skipped.
  const theirs = inCategory.filter((c) => c.permissionsFor(member).has(READ));
  const skip = excludedIds(exclude, theirs);
  const notes: string[] = [];
  const readable = theirs.filter((c) => {
    if (skip.has(c.id)) return false;
    if (me !== null && c.permissionsFor(me).has(READ)) return true;
    notes.push(`I can't read <#${c.id}>, so it is left out.`);
    return false;
  });
  if (readable.length === 0) throw new UserFacingError(`Nothing in the ${category.name} category is left to summarize: no channel there that both you and I can read${skip.size > 0 ? ' and that `exclude` keeps' : ''}.`);
  if (readable.length > MAX_CATEGORY_CHANNELS) {
    const cut = readable.slice(MAX_CATEGORY_CHANNELS);
    notes.push(`A category summary covers at most ${MAX_CATEGORY_CHANNELS} channels; left out: ${cut.map((c) => `<#${c.id}>`).join(', ')} (use \`exclude\` to choose).`);
  }
  return { channels: readable.slice(0, MAX_CATEGORY_CHANNELS), notes };
}
