/**
 * `/digest create`: reads the options and hands them to the rules every
 * surface shares (`./new-digest.ts`: who may, the bot's access, the
 * visibility of the source to the destination's audience, the schedule,
 * the per-guild cap); then says when it first runs.
 */
import type { ChatInputCommandInteraction } from 'discord.js';
import { describeSchedule } from '../../digests/schedule.ts';
import type { CommandContext } from '../command.ts';
import { replyPrivately } from '../shared/private-reply.ts';
import { digestScope } from './access.ts';
import { createCheckedDigest } from './new-digest.ts';

export async function createDigestCommand(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const { guild, member } = digestScope(interaction);
  const options = interaction.options;
  const { digest, spec } = await createCheckedDigest(
    { db: ctx.services.db, guild, member, now: new Date(ctx.services.clock.now()), via: 'command' },
    {
      sourceId: options.getChannel('source', true).id,
      destinationId: options.getChannel('post_to', true).id,
      every: options.getString('every', true),
      at: options.getString('at'),
      timezone: options.getString('timezone'),
      cron: options.getString('cron'),
      type: options.getString('type'),
      perspective: options.getString('perspective'),
      language: options.getString('language'),
      skipIfQuiet: options.getBoolean('skip_if_quiet') ?? false,
    },
  );
  ctx.logger.info({ digest: digest.id, source: digest.source_id, destination: digest.destination_id, cadence: spec.cadence }, 'digest created');
  await replyPrivately(interaction, {
    content: `Digest \`${digest.id}\` created: <#${digest.source_id}> into <#${digest.destination_id}>, ${describeSchedule(spec)}. First run <t:${Math.floor(digest.next_run_at.getTime() / 1000)}:F>, covering the messages since <t:${Math.floor(digest.window_start.getTime() / 1000)}:f>.`,
  });
}
