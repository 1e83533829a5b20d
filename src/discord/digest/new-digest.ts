/**
 * The rules for creating a digest, for every surface that creates one
 * (`/digest create`, the dashboard's form): who may (Manage Server, or
 * Manage Channels on both channels), that the bot can read the source and
 * post in the destination, that everyone who can view the destination can
 * read the source (every channel of a category source), the schedule, the
 * routing values; then the store's per-guild cap. The guild's channels,
 * roles and overwrites must be in discord.js's caches (the gateway keeps
 * them; a REST-only client fetches them first).
 */
import { ChannelType, type CategoryChannel, type Guild, type GuildMember, type GuildTextBasedChannel } from 'discord.js';
import type { Kysely } from 'kysely';
import { recordAudit } from '../../audit/audit-log.ts';
import type { Database } from '../../db/schema.ts';
import { createDigest, DigestLimitError, type DigestRow } from '../../digests/digest-store.ts';
import { CADENCES, nextRunAfter, previousRunBefore, ScheduleError, validateSchedule, type Cadence, type ScheduleSpec } from '../../digests/schedule.ts';
import { PROMPT_CATEGORY } from '../../prompts/routed-values.ts';
import { routeChoice } from '../../summaries/summary-context.ts';
import { UserFacingError } from '../errors.ts';
import { requireBotCanRead, requireMemberCanRead } from '../history/channel-access.ts';
import { languageCode } from '../shared/languages.ts';
import { categoryChannels } from '../summarize/category-channels.ts';
import { requirePostable } from '../summarize/post-to.ts';
import { requireMayManage } from './access.ts';

/** What a member asks for, as typed: every field is checked here. */
export interface DigestRequest {
  sourceId: string;
  destinationId: string;
  every: string;
  at?: string | null | undefined;
  timezone?: string | null | undefined;
  cron?: string | null | undefined;
  type?: string | null | undefined;
  perspective?: string | null | undefined;
  language?: string | null | undefined;
  skipIfQuiet: boolean;
}

export interface NewDigestScope {
  db: Kysely<Database>;
  guild: Guild;
  member: GuildMember;
  /** The bot's member; undefined: `guild.members.me` (a gateway client). */
  bot?: GuildMember | undefined;
  now: Date;
  /** Recorded in the audit log: which surface created it. */
  via: 'command' | 'dashboard';
}

export interface CreatedDigest {
  digest: DigestRow;
  spec: ScheduleSpec;
}

function routing(value: string | null | undefined, name: string): string | undefined {
  const choice = routeChoice(value ?? null);
  if (choice !== undefined && !PROMPT_CATEGORY.test(choice)) throw new UserFacingError(`\`${name}\` takes letters, digits, "-" and "_" only (for example \`brief\`).`);
  return choice;
}

/** @throws UserFacingError with the specific reason when any rule refuses; nothing is stored then. */
export async function createCheckedDigest(scope: NewDigestScope, request: DigestRequest): Promise<CreatedDigest> {
  const { guild, member, bot, now } = scope;
  requireMayManage(guild, member, request.sourceId, request.destinationId);

  const destination = guild.channels.cache.get(request.destinationId);
  if (destination === undefined || !destination.isTextBased() || destination.isVoiceBased()) throw new UserFacingError(`<#${request.destinationId}> can't take a digest; pick a text channel.`);
  const source = guild.channels.cache.get(request.sourceId);
  if (source === undefined) throw new UserFacingError(`I can't see <#${request.sourceId}>.`);
  let sources: GuildTextBasedChannel[];
  if (source.type === ChannelType.GuildCategory) {
    sources = (await categoryChannels(source as CategoryChannel, member, null, bot)).channels;
  } else if (source.isTextBased()) {
    await requireMemberCanRead(source, member, false);
    await requireBotCanRead(source, bot);
    sources = [source];
  } else {
    throw new UserFacingError(`<#${source.id}> has no messages to digest; pick a text channel or a category.`);
  }
  for (const channel of sources) await requirePostable(destination, channel, member, bot);

  if (!CADENCES.includes(request.every as Cadence)) throw new UserFacingError(`\`every\` takes one of ${CADENCES.join(', ')}.`);
  const cron = (request.cron ?? '').trim();
  const spec: ScheduleSpec = {
    cadence: request.every as Cadence,
    at: (request.at ?? '').trim() || '09:00',
    timezone: (request.timezone ?? '').trim() || 'UTC',
    cron: cron === '' ? undefined : cron,
  };
  try {
    validateSchedule(spec, now);
  } catch (error) {
    if (error instanceof ScheduleError) throw new UserFacingError(error.message);
    throw error;
  }
  const type = routing(request.type, 'type');
  const perspective = routing(request.perspective, 'perspective');
  const languageText = (request.language ?? '').trim();
  const nextRunAt = nextRunAfter(spec, now);
  let digest: DigestRow;
  try {
    digest = await createDigest(
      scope.db,
      {
        ...spec,
        guildId: guild.id,
        sourceId: source.id,
        sourceKind: source.type === ChannelType.GuildCategory ? 'category' : 'channel',
        destinationId: destination.id,
        type,
        perspective,
        language: languageText === '' ? undefined : languageCode(languageText),
        skipIfQuiet: request.skipIfQuiet,
        createdBy: member.id,
        nextRunAt,
        windowStart: previousRunBefore(spec, nextRunAt),
      },
      now,
    );
  } catch (error) {
    if (error instanceof DigestLimitError) throw new UserFacingError(error.message);
    throw error;
  }
  await recordAudit(scope.db, {
    guildId: guild.id,
    actorId: member.id,
    action: 'digest.create',
    details: { digest: digest.id, source: source.id, destination: destination.id, cadence: spec.cadence, via: scope.via },
  });
  return { digest, spec };
}
