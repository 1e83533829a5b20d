/**
 * `/digest create`: checks who asks (Manage Server, or Manage Channels on
 * both channels), that the bot can read the source and post in the
 * destination, that everyone who can view the destination can read the
 * source (every channel of a category source), and the schedule; then
 * stores the digest with its first due time.
 */
import { ChannelType, type ChatInputCommandInteraction, type CategoryChannel, type GuildTextBasedChannel } from 'discord.js';
import { createDigest, DigestLimitError } from '../../digests/digest-store.ts';
import { CADENCES, describeSchedule, nextRunAfter, previousRunBefore, ScheduleError, validateSchedule, type Cadence, type ScheduleSpec } from '../../digests/schedule.ts';
import { routeChoice } from '../../summaries/summary-context.ts';
import { PROMPT_CATEGORY } from '../../prompts/routed-values.ts';
import type { CommandContext } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { requireBotCanRead, requireMemberCanRead } from '../history/channel-access.ts';
import { languageCode } from '../shared/languages.ts';
import { replyPrivately } from '../shared/private-reply.ts';
import { categoryChannels } from '../summarize/category-channels.ts';
import { requirePostable } from '../summarize/post-to.ts';
import { digestScope, requireMayManage } from './access.ts';

function routing(interaction: ChatInputCommandInteraction, name: string): string | undefined {
  const value = routeChoice(interaction.options.getString(name));
  if (value !== undefined && !PROMPT_CATEGORY.test(value)) throw new UserFacingError(`\`${name}\` takes letters, digits, "-" and "_" only (for example \`brief\`).`);
  return value;
}

export async function createDigestCommand(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const { guild, member } = digestScope(interaction);
  const sourceOption = interaction.options.getChannel('source', true);
  const destinationOption = interaction.options.getChannel('post_to', true);
  requireMayManage(guild, member, sourceOption.id, destinationOption.id);

  const destination = guild.channels.cache.get(destinationOption.id);
  if (destination === undefined || !destination.isTextBased() || destination.isVoiceBased()) throw new UserFacingError(`<#${destinationOption.id}> can't take a digest; pick a text channel.`);
  const source = guild.channels.cache.get(sourceOption.id);
  if (source === undefined) throw new UserFacingError(`I can't see <#${sourceOption.id}>.`);
  let sources: GuildTextBasedChannel[];
  if (source.type === ChannelType.GuildCategory) {
    sources = (await categoryChannels(source as CategoryChannel, member, null)).channels;
  } else if (source.isTextBased()) {
    await requireMemberCanRead(source, member, false);
    await requireBotCanRead(source);
    sources = [source];
  } else {
    throw new UserFacingError(`<#${source.id}> has no messages to digest; pick a text channel or a category.`);
  }
  for (const channel of sources) await requirePostable(destination, channel, member);

  const cadence = interaction.options.getString('every', true) as Cadence;
  if (!CADENCES.includes(cadence)) throw new UserFacingError(`\`every\` takes one of ${CADENCES.join(', ')}.`);
  const spec: ScheduleSpec = {
    cadence,
    at: interaction.options.getString('at') ?? '09:00',
    timezone: (interaction.options.getString('timezone') ?? 'UTC').trim(),
    cron: interaction.options.getString('cron') ?? undefined,
  };
  const now = new Date(ctx.services.clock.now());
  try {
    validateSchedule(spec, now);
  } catch (error) {
    if (error instanceof ScheduleError) throw new UserFacingError(error.message);
    throw error;
  }
  const languageText = interaction.options.getString('language');
  const nextRunAt = nextRunAfter(spec, now);
  try {
    const digest = await createDigest(
      ctx.services.db,
      {
        ...spec,
        guildId: guild.id,
        sourceId: source.id,
        sourceKind: source.type === ChannelType.GuildCategory ? 'category' : 'channel',
        destinationId: destination.id,
        type: routing(interaction, 'type'),
        perspective: routing(interaction, 'perspective'),
        language: languageText === null ? undefined : languageCode(languageText),
        skipIfQuiet: interaction.options.getBoolean('skip_if_quiet') ?? false,
        createdBy: member.id,
        nextRunAt,
        windowStart: previousRunBefore(spec, nextRunAt),
      },
      now,
    );
    ctx.logger.info({ digest: digest.id, source: source.id, destination: destination.id, cadence }, 'digest created');
    await replyPrivately(interaction, {
      content: `Digest \`${digest.id}\` created: <#${source.id}> into <#${destination.id}>, ${describeSchedule(spec)}. First run <t:${Math.floor(nextRunAt.getTime() / 1000)}:F>, covering the messages since <t:${Math.floor(digest.window_start.getTime() / 1000)}:f>.`,
    });
  } catch (error) {
    if (error instanceof DigestLimitError) throw new UserFacingError(error.message);
    throw error;
  }
}
