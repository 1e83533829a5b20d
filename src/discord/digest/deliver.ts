/**
 * A digest run on the Discord side: finds the guild and channels (gone:
 * the digest is paused), checks again that everyone who can view the
 * destination can read every source (no: not posted), reads exactly the
 * run's window, summarizes it through the same summarizer as /summarize and
 * posts it. A retried attempt first looks for the message an earlier
 * attempt posted (its footer names the run), so a run killed after posting
 * is not posted twice.
 */
import { ChannelType, PermissionFlagsBits, type Client, type Guild, type GuildTextBasedChannel, type Message } from 'discord.js';
import type { DeliveryOutcome, DigestDelivery, DigestRun } from '../../digests/run-digest.ts';
import { summaryChoices } from '../../summaries/summary-context.ts';
import { renderCitations } from '../../summaries/citation-render.ts';
import type { Summarizer } from '../../summaries/summarize.ts';
import type { Logger } from '../../log/logger.ts';
import { EmbedColors } from '../format/embed.ts';
import type { MemberNames } from '../history/member-names.ts';
import { readChannel } from '../history/read-channel.ts';
import { discordCitationStyle } from '../output/citation-style.ts';
import { summaryFooter } from '../output/summary-footer.ts';
import { embedMessages, type EmbedMessage } from '../output/summary-messages.ts';
import type { Visibility } from '../visibility/audience.ts';
import { notPostedBecause, visibleToAudienceOf } from '../visibility/shown-to.ts';
import { MAX_CATEGORY_CHANNELS } from '../summarize/category-channels.ts';

/** Messages one run reads per channel; a busier window is summarized from its newest messages, and says so. */
export const DIGEST_MAX_MESSAGES = 2_000;
const READ = [PermissionFlagsBits.ViewChannel, PermissionFlagsBits.ReadMessageHistory];
const POST = [PermissionFlagsBits.ViewChannel, PermissionFlagsBits.SendMessages, PermissionFlagsBits.EmbedLinks];
/** How far back a retry looks for its own earlier post. */
const RECENT = 50;

export interface DiscordDigestDeps {
  client: Client;
  summarizer: Summarizer;
  memberNames: MemberNames;
  logger: Logger;
  /** Where posted digest summaries are recorded, so /summaries lists them and a deleted post leaves history. */
  history?: { record(post: { summaryId: string; guildId: string; channelId: string; messageIds: readonly string[] }): Promise<void> } | undefined;
}

/** The marker in a run's last footer, by which a retry finds what an earlier attempt posted. */
export function runMarker(digestId: string, runId: string): string {
  return `digest ${digestId} · run ${runId.slice(0, 8)}`;
}

function windowText(window: { start: Date; end: Date }): string {
  const t = (d: Date): string => `<t:${Math.floor(d.getTime() / 1000)}:f>`;
  return `${t(window.start)} – ${t(window.end)}`;
}

async function fetchGuild(client: Client, guildId: string): Promise<Guild | null> {
  return client.guilds.cache.get(guildId) ?? (await client.guilds.fetch(guildId).catch(() => null));
}

async function fetchChannel(guild: Guild, id: string) {
  return guild.channels.cache.get(id) ?? (await guild.channels.fetch(id).catch(() => null));
}

async function sourcesOf(guild: Guild, run: DigestRun): Promise<GuildTextBasedChannel[] | string> {
  const { digest } = run;
  const source = await fetchChannel(guild, digest.source_id);
  if (source === null) return `The source channel (${digest.source_id}) no longer exists or I can't see it.`;
  if (digest.source_kind === 'category') {
    if (source.type !== ChannelType.GuildCategory) return `The source <#${source.id}> is no longer a category.`;
    const me = guild.members.me ?? (await guild.members.fetchMe().catch(() => null));
    const channels = [...guild.channels.cache.values()]
      .filter((c): c is GuildTextBasedChannel & { position: number } => c.parentId === source.id && (c.type === ChannelType.GuildText || c.type === ChannelType.GuildAnnouncement))
      .filter((c) => me !== null && c.permissionsFor(me).has(READ))
      .sort((a, b) => a.position - b.position || a.id.localeCompare(b.id))
      .slice(0, MAX_CATEGORY_CHANNELS);
    return channels.length === 0 ? `I can't read any channel in the category <#${source.id}> any more.` : channels;
  }
  if (!source.isTextBased()) return `The source <#${source.id}> no longer holds messages.`;
  return [source];
}

async function earlierPost(destination: GuildTextBasedChannel, client: Client, marker: string): Promise<Message | undefined> {
  const recent = await destination.messages.fetch({ limit: RECENT, cache: false }).catch(() => undefined);
  if (recent === undefined) return undefined;
  return [...recent.values()].find((m) => m.author.id === client.user?.id && m.embeds.some((e) => e.footer?.text.includes(marker) === true));
}

export function createDiscordDigestDelivery(deps: DiscordDigestDeps): DigestDelivery {
  const { client, logger } = deps;
  return {
    async deliver(run: DigestRun): Promise<DeliveryOutcome> {
      const { digest, window } = run;
      const guild = await fetchGuild(client, digest.guild_id);
      if (guild === null) return { outcome: 'gone', reason: 'I am no longer in this server, or it no longer exists.' };
      const destination = await fetchChannel(guild, digest.destination_id);
      if (destination === null || !destination.isTextBased()) return { outcome: 'gone', reason: `The destination channel (${digest.destination_id}) no longer exists or I can't see it.` };
      const sources = await sourcesOf(guild, run);
      if (typeof sources === 'string') return { outcome: 'gone', reason: sources };

      // Permissions change: the invariant is checked at every run, and undecidable counts as not visible.
      for (const source of sources) {
        const verdict = await visibleToAudienceOf(destination, source).catch((): Visibility => ({ visible: false, why: { kind: 'unknown-channel' } }));
        if (!verdict.visible) return { outcome: 'not-posted', reason: notPostedBecause(verdict.why, destination.id, source.id) };
      }
      const me = guild.members.me ?? (await guild.members.fetchMe().catch(() => null));
      if (me === null || !destination.permissionsFor(me).has(POST)) {
        return { outcome: 'not-posted', reason: `I can't post in <#${destination.id}>: I need View Channel, Send Messages and Embed Links there.` };
      }

      const marker = runMarker(digest.id, run.runId);
      if (run.attempt > 1) {
        const posted = await earlierPost(destination, client, marker);
        if (posted !== undefined) {
          const counted = /(\d[\d,]*) messages? in the window/.exec(posted.embeds.at(-1)?.footer?.text ?? '');
          return { outcome: 'posted', messageCount: counted === null ? 0 : Number(counted[1]!.replace(/,/g, '')), messageUrl: posted.url };
        }
      }

      const end = window.end.getTime();
      const messages: EmbedMessage[] = [];
      let total = 0;
      const reads = [];
      for (const source of sources) {
        run.signal.throwIfAborted();
        const read = await readChannel({
          channel: source,
          maxMessages: DIGEST_MAX_MESSAGES,
          since: { kind: 'duration', sinceMs: window.start.getTime(), durationMs: end - window.start.getTime() },
          memberNames: deps.memberNames,
          // Messages after the window's end belong to the next run.
          skip: (message) => message.createdTimestamp >= end,
        });
        total += read.prepared.messages.length;
        reads.push({ source, read });
      }
      if (total === 0 && digest.skip_if_quiet) return { outcome: 'skipped-quiet', messageCount: 0 };

      const summaryIds: string[] = [];
      const choices = summaryChoices({ type: digest.type ?? undefined, perspective: digest.perspective ?? undefined, category: undefined });
      for (const [index, { source, read }] of reads.entries()) {
        const last = index === reads.length - 1;
        const count = read.prepared.messages.length;
        const lead = `${count.toLocaleString('en-US')} message${count === 1 ? '' : 's'} in the window ${windowText(window)}`;
        const closing = last ? ` · ${total.toLocaleString('en-US')} message${total === 1 ? '' : 's'} in the window · ${marker}` : '';
        const notes = read.counted >= DIGEST_MAX_MESSAGES ? [`The window held more than ${DIGEST_MAX_MESSAGES.toLocaleString('en-US')} messages in <#${source.id}>; this covers the newest.`] : [];
        if (count === 0) {
          messages.push(...embedMessages({ title: `Digest: #${read.channelName}`, url: source.url, text: `Nothing was said in <#${source.id}> in the window ${windowText(window)}.`, footer: `Digest ${digest.id}${closing}`, color: EmbedColors.info }));
          continue;
        }
        const result = await deps.summarizer.summarize(read.prepared, {
          guildId: guild.id,
          guildName: guild.name,
          channelId: source.id,
          channelName: source.name,
          ...choices,
          userName: 'scheduled digest',
          locale: digest.language ?? guild.preferredLocale,
          correlationId: `digest:${digest.id}:${run.runId}`,
          signal: run.signal,
        });
        if (result.summaryId !== null) summaryIds.push(result.summaryId);
        messages.push(
          ...embedMessages({
            title: `Digest: #${read.channelName}`,
            url: source.url,
            text: `_${lead}._\n\n${renderCitations(result.text, result.citations, discordCitationStyle)}`,
            footer: `${summaryFooter(result)}${closing}`,
            notes: [...notes, ...result.warnings],
            color: EmbedColors.info,
            emptyText: '(The model returned an empty summary.)',
          }),
        );
      }
      run.signal.throwIfAborted();
      let first: Message | undefined;
      const messageIds: string[] = [];
      for (const message of messages) {
        const sent = await destination.send({ ...message, allowedMentions: { parse: [] } });
        first ??= sent;
        messageIds.push(sent.id);
      }
      for (const summaryId of new Set(summaryIds)) {
        await deps.history?.record({ summaryId, guildId: guild.id, channelId: destination.id, messageIds }).catch((error: unknown) =>
          logger.warn({ err: error, summaryId }, 'could not record where a digest summary was posted'),
        );
      }
      logger.info({ digest: digest.id, run: run.runId, destination: destination.id, messages: total }, 'digest posted');
      return { outcome: 'posted', messageCount: total, messageUrl: first?.url ?? '' };
    },
  };
}
