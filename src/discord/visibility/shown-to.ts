/**
 * What every surface that shows a summary calls just before showing it:
 * may content drawn from `source` be shown to everyone who can view
 * `destination`? And, when not, the one line that tells the member who asked
 * why they alone see it.
 */
import type { GuildBasedChannel } from 'discord.js';
import { audienceContained, type HiddenReason, type MissingAccess, type Visibility } from './audience.ts';
import { botsOf, guildFacts, membersNamedIn, placeFacts } from './facts.ts';

/**
 * Decides from the guild as discord.js knows it now. `destination` null: the
 * place is not known to the bot (an uncached private thread), so nothing is
 * provably visible there.
 */
export async function visibleToAudienceOf(destination: GuildBasedChannel | null, source: GuildBasedChannel): Promise<Visibility> {
  if (destination === null || destination.guild.id !== source.guild.id) return { visible: false, why: { kind: 'unknown-channel' } };
  const probe = [...new Set([...membersNamedIn(destination, source), ...botsOf(source.guild)])];
  const [shownIn, readFrom] = await Promise.all([placeFacts(destination, probe), placeFacts(source, probe)]);
  if (shownIn === undefined || readFrom === undefined) return { visible: false, why: { kind: 'unknown-channel' } };
  return audienceContained({ guild: guildFacts(source.guild), destination: shownIn, source: readFrom });
}

/**
 * One line for the member who asked (who can read the source, so naming it
 * is safe): why the summary came to them alone. Mentions render as names and
 * must be sent with no allowed mentions.
 */
export function privateBecause(why: HiddenReason, destinationId: string, sourceId: string): string {
  return hiddenBecause('Only you can see this summary:', why, destinationId, sourceId);
}

/** One line for the member who asked to post a summary of `source` in `destination`: why it was refused. */
export function notPostedBecause(why: HiddenReason, destinationId: string, sourceId: string): string {
  return hiddenBecause(`I won't post a summary of <#${sourceId}> in <#${destinationId}>:`, why, destinationId, sourceId);
}

function hiddenBecause(lead: string, why: HiddenReason, destinationId: string, sourceId: string): string {
  const here = `<#${destinationId}>`;
  const there = `<#${sourceId}>`;
  switch (why.kind) {
    case 'roles': {
      const who = why.roleIds.length === 0 ? 'some members' : `members with ${why.roleIds.map((id) => `<@&${id}>`).join(' + ')}`;
      return `${lead} ${who} can see ${here} but ${lacking(why.missing, there, true)}.`;
    }
    case 'member':
      return `${lead} <@${why.userId}> can see ${here} but ${lacking(why.missing, there, false)}.`;
    case 'unknown-role':
      return `${lead} a permission on ${here} or ${there} names a role I don't know, so I can't confirm who would see it.`;
    case 'too-complex':
      return `${lead} the permissions of ${here} and ${there} are too intricate for me to confirm that everyone here can read ${there}.`;
    case 'unknown-channel':
      return `${lead} I couldn't check who can see ${here}.`;
  }
}

function lacking(missing: MissingAccess, there: string, plural: boolean): string {
  if (missing === 'view') return `can't see ${there}`;
  if (missing === 'history') return `can't read the history of ${there}`;
  return `${plural ? "aren't" : "isn't"} in the private thread ${there}`;
}
