/**
 * `/summarize [channel] [messages] [since] [type] [perspective] [category] [private]`
 *
 * The exchange: checks (member and bot can read the channel) answered at
 * once; then an ephemeral "working" reply that shows progress to the member
 * who asked; then the summary, posted publicly as follow-up messages, or,
 * with `private`, inside that ephemeral reply and ephemeral follow-ups.
 * A summary goes public only when everyone who can view the channel it
 * would be posted in can read the summarized one; otherwise it is private,
 * with one line saying why. Both that and the asker's own access are
 * checked again when the summary is posted, since permissions change.
 * Every failure is an ephemeral message naming what went wrong.
 */
import {
  ChannelType,
  InteractionContextType,
  SlashCommandBuilder,
  type ChatInputCommandInteraction,
  type CategoryChannel,
  type GuildTextBasedChannel,
  type MessageContextMenuCommandInteraction,
} from 'discord.js';
import { nothingToSummarize } from '../../summaries/summarize.ts';
import { SummarizeError } from '../../summaries/errors.ts';
import type { SummaryResult } from '../../summaries/types.ts';
import type { CommandContext, SlashCommand } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { EmbedColors } from '../format/embed.ts';
import { requireBotCanRead, requireMemberCanRead } from '../history/channel-access.ts';
import { readChannel, type ChannelRead } from '../history/read-channel.ts';
import { parseSince, type SinceBoundary } from '../history/since.ts';
import { renderCitations } from '../../summaries/citation-render.ts';
import { discordCitationStyle } from '../output/citation-style.ts';
import { summarizeFailureText } from '../output/failure-text.ts';
import { createProgress, summarizeProgressText } from '../output/progress.ts';
import { historyCut } from '../../summaries/history-cut.ts';
import { summaryFooter } from '../output/summary-footer.ts';
import { recordSummaryPost } from '../../summaries/history.ts';
import { embedMessages, type EmbedMessage } from '../output/summary-messages.ts';
import { summaryFileMessage } from '../output/summary-file.ts';
import { deferOnce, respond } from '../respond.ts';
import { SUMMARIZABLE_TYPES, summarizableChannel } from '../shared/channel-kinds.ts';
import { snapshotInMemory } from '../shared/prompt-snapshot.ts';
import { answerRoutedChoices } from '../shared/routed-autocomplete.ts';
import { askerName, routingOptions, summaryRequest, type RoutingOptions, type SummaryRequest } from '../shared/summary-request.ts';
import type { Visibility } from '../visibility/audience.ts';
import { privateBecause, visibleToAudienceOf } from '../visibility/shown-to.ts';
import { requirePostable, requireVisibleThere } from '../summarize/post-to.ts';
import { categoryChannels, MAX_CATEGORY_CHANNELS } from '../summarize/category-channels.ts';
import { answerLanguages, languageCode } from '../shared/languages.ts';
import { commandLocalizations } from '../shared/command-localizations.ts';

export const SUMMARIZE_COMMAND = 'summarize';
export const MAX_MESSAGES = 10_000;
export const DEFAULT_MESSAGES = 100;
/** Where `post_to` may point: channels and threads that hold messages. */
const POSTABLE_TYPES = [ChannelType.GuildText, ChannelType.GuildAnnouncement, ChannelType.PublicThread, ChannelType.PrivateThread, ChannelType.AnnouncementThread] as const;

export function summarizeDefinition(): SlashCommandBuilder {
  const builder = new SlashCommandBuilder()
    .setName(SUMMARIZE_COMMAND)
    .setDescription('Summarize a channel, thread or forum post')
    .setNameLocalizations(commandLocalizations.summarize.name)
    .setDescriptionLocalizations(commandLocalizations.summarize.description)
    .setContexts(InteractionContextType.Guild);
  builder
    .addChannelOption((o) => o.setName('channel').setDescription('Channel, thread or forum post (default: this one)').addChannelTypes(...SUMMARIZABLE_TYPES))
    .addIntegerOption((o) =>
      o.setName('messages').setDescription(`How many recent messages (1–${MAX_MESSAGES.toLocaleString('en-US')}; default ${DEFAULT_MESSAGES})`).setMinValue(1).setMaxValue(MAX_MESSAGES),
    )
    .addStringOption((o) => o.setName('since').setDescription('A time back from now (30m, 2h, 3d; at most 14d) or a message link').setMaxLength(200))
    .addStringOption((o) => o.setName('type').setDescription('brief, detailed, comprehensive, action_items, or a type your prompts add').setAutocomplete(true).setMaxLength(100))
    .addStringOption((o) => o.setName('perspective').setDescription('Who it is for (default: general)').setAutocomplete(true).setMaxLength(100))
    .addStringOption((o) => o.setName('category').setDescription('Prompt category (default: from the channel category, else discussion)').setAutocomplete(true).setMaxLength(100))
    .addBooleanOption((o) => o.setName('private').setDescription('Only you see the summary'))
    .addStringOption((o) =>
      o.setName('format').setDescription('How the summary is sent (default: embed)').addChoices({ name: 'embed', value: 'embed' }, { name: 'file (Markdown attachment)', value: 'file' }),
    )
    .addStringOption((o) => o.setName('language').setDescription("Language of the summary (default: the server's language)").setAutocomplete(true).setMaxLength(40))
    .addChannelOption((o) => o.setName('in_category').setDescription(`Every channel of this category you and I can read (at most ${MAX_CATEGORY_CHANNELS}), one section each`).addChannelTypes(ChannelType.GuildCategory))
    .addStringOption((o) => o.setName('exclude').setDescription('With in_category: channels to skip, e.g. #random #memes').setMaxLength(1000))
    .addChannelOption((o) => o.setName('post_to').setDescription('Post the summary in this channel instead (everyone there must be able to read the source)').addChannelTypes(...POSTABLE_TYPES));
  return builder;
}

export interface SummarizeCommandOptions {
  /** Least time between two progress edits (default 2 s). */
  progressIntervalMs?: number;
}

/** The interactions a summary answers: the slash command and the message context menus. */
export type SummarizeInteraction = ChatInputCommandInteraction | MessageContextMenuCommandInteraction;

/** A summary asked for, with the member's and the bot's access to the channel already checked. */
export interface CheckedRequest {
  channel: GuildTextBasedChannel;
  maxMessages: number;
  since: SinceBoundary | undefined;
  routing: RoutingOptions;
  private: boolean;
  /** `in_category`: one combined summary of these channels (`channel` is the first), a section each. */
  category?: { channel: CategoryChannel; channels: GuildTextBasedChannel[]; notes: string[] };
  /** `language`: the prompt's `{locale}` instead of the guild's preferred locale. */
  language?: string;
  /** `file`: one Markdown attachment instead of embeds. */
  format?: 'embed' | 'file';
  /** Post the summary here rather than where the command runs (checked with `requirePostable`). */
  postTo?: GuildTextBasedChannel;
}

export function createSummarizeCommand(options: SummarizeCommandOptions = {}): SlashCommand {
  const execute = async (interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> => {
    await summarizeAndPost(interaction, await checkedRequest(interaction, ctx), ctx, options);
  };

  return {
    data: summarizeDefinition().toJSON(),
    execute,
    // Only a snapshot already in memory: a guild whose repository is not loaded yet sees the defaults.
    autocomplete: (interaction, ctx) =>
      interaction.options.getFocused(true).name === 'language'
        ? answerLanguages(interaction)
        : answerRoutedChoices(interaction, ctx, (guildId) => snapshotInMemory(ctx.services.prompts, guildId)),
  };
}

/**
 * Reads the channel, summarizes it and posts the summary (publicly when
 * everyone who can see it here may read the source), showing progress in
 * the member's ephemeral reply meanwhile.
 */
export async function summarizeAndPost(
  interaction: SummarizeInteraction,
  request: CheckedRequest,
  ctx: CommandContext,
  options: SummarizeCommandOptions = {},
): Promise<void> {
    await deferOnce(interaction, true);
    const { services, logger } = ctx;
    const progress = createProgress({
      // Through the webhook, so the reply still counts as unanswered: the summary or the failure replaces it.
      show: async (text) => void (await interaction.webhook.editMessage('@original', { content: text })),
      now: () => services.clock.now(),
      minIntervalMs: options.progressIntervalMs ?? 2_000,
      onError: (error) => logger.debug({ err: error }, 'progress edit failed'),
    });

    let read: ChannelRead;
    let asked: SummaryRequest;
    let result: SummaryResult;
    let rendered: string | undefined;
    let summaryIds: Array<string | null> = [];
    try {
      if (request.category !== undefined) {
        ({ read, asked, result, rendered, summaryIds } = await summarizeSections(interaction, request, request.category, ctx, (text) => progress.update(text)));
      } else {
      if (request.since?.kind === 'after-message') await requireMessage(request.channel, request.since.messageId);
      read = await readChannel({
        channel: request.channel,
        maxMessages: request.maxMessages,
        ...(request.since === undefined ? {} : { since: request.since }),
        memberNames: ctx.memory.memberNames,
        onProgress: (count) => progress.update(`Reading <#${request.channel.id}>… ${count.toLocaleString('en-US')} messages so far`),
      });
      const { prepared } = read;
      if (prepared.messages.length === 0) throw new UserFacingError(`${capitalize(nothingToSummarize(prepared, read.channelName))}.${windowNote(request)}`);
      asked = withLanguage(await summaryRequest(interaction, request.channel, request.routing, ctx), request);
      const count = prepared.messages.length;
      progress.update(summarizeProgressText({ stage: 'single' }, count));
      result = await services.summarizer.summarize(prepared, {
        ...asked,
        userId: interaction.user.id,
        correlationId: ctx.correlationId,
        onProgress: (p) => progress.update(summarizeProgressText(p, count)),
      });
      summaryIds = [result.summaryId];
      }
    } catch (error) {
      if (error instanceof SummarizeError) throw new UserFacingError(summarizeFailureText(error), { cause: error });
      throw error;
    } finally {
      await progress.close();
    }

    // Permissions may have changed while the summary was written: the asker must still be able to read it.
    const sources = request.category?.channels ?? [request.channel];
    if (interaction.inCachedGuild()) for (const source of sources) await requireMemberCanRead(source, interaction.member, source.id === interaction.channelId);
    let onlyYou: string | undefined;
    for (const source of sources) {
      if (request.private || onlyYou !== undefined) break;
      const notPosted = request.postTo === undefined ? undefined : await notPostableNow(request.postTo, source);
      onlyYou = notPosted ?? (request.postTo === undefined ? await whyOnlyYou(interaction, source, ctx) : undefined);
    }
    const isPrivate = request.private || onlyYou !== undefined;
    // Reading stopped short of what was asked for: said in the reply, the notes and the footer.
    const cut = request.category === undefined ? historyCut(read, request.since, request.maxMessages) : undefined;
    const document = {
      title: request.category === undefined ? titleFor(asked.type, read.channelName) : titleFor(asked.type, request.category.channel.name, 'category'),
      url: request.category?.channel.url ?? request.channel.url,
      text: rendered ?? renderCitations(result.text, result.citations, discordCitationStyle),
      footer: isPrivate ? summaryFooter(result, cut) : `Asked by ${askerName(interaction)} · ${summaryFooter(result, cut)}`,
      notes: [...(cut === undefined ? [] : [cut]), ...(request.category?.notes ?? []), ...result.warnings],
      color: EmbedColors.info,
      emptyText: '(The model returned an empty summary.)',
    };
    const messages: EmbedMessage[] = request.format === 'file' ? [summaryFileMessage(document, read.channelName)] : embedMessages(document);
    const posted =
      request.postTo !== undefined && !isPrivate
        ? await postElsewhere(interaction, request.postTo, messages, result)
        : await post(interaction, messages, isPrivate, result, onlyYou, cut);
    if (posted !== undefined && interaction.guildId !== null) await recordPosts(ctx, interaction.guildId, posted, summaryIds);
    logger.info(
      {
        channelId: read.channelId,
        messages: result.messages,
        chunks: result.chunks,
        historyRequests: read.requests,
        historyEnd: read.end,
        replies: messages.length,
        reused: result.reused,
        private: isPrivate,
        ...(onlyYou === undefined ? {} : { madePrivate: true }),
        ...(request.postTo === undefined ? {} : { postedTo: request.postTo.id }),
      },
      'summary posted',
    );
}

export const summarizeCommand: SlashCommand = createSummarizeCommand();

/** Everything that can be refused without reading a message, refused before the reply is deferred. */
async function checkedRequest(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<CheckedRequest> {
  if (!interaction.inCachedGuild()) throw new UserFacingError('/summarize works in server channels only.');
  const sinceText = interaction.options.getString('since');
  const since = sinceText === null || sinceText.trim() === '' ? undefined : parseSince(sinceText, ctx.services.clock.now());
  const chosen = interaction.options.getChannel('channel');
  const inCategory = interaction.options.getChannel('in_category');
  const excludeText = interaction.options.getString('exclude');
  if (inCategory !== null && (chosen !== null || since?.kind === 'after-message')) {
    throw new UserFacingError('`in_category` summarizes every channel of a category: leave out `channel` and message links.');
  }
  if (inCategory === null && excludeText !== null) throw new UserFacingError('`exclude` goes with `in_category`.');
  const category = inCategory === null ? undefined : await categoryRequest(interaction, inCategory.id, excludeText);
  if (since?.kind === 'after-message') {
    if (since.guildId !== interaction.guildId) throw new UserFacingError('That message link is from another server.');
    if (chosen !== null && chosen.id !== since.channelId) {
      throw new UserFacingError(`That message link is in <#${since.channelId}>, not in <#${chosen.id}>; leave out \`channel\` or pick the link's channel.`);
    }
  }
  const channelId = category?.channels[0]?.id ?? chosen?.id ?? (since?.kind === 'after-message' ? since.channelId : interaction.channelId);
  const channel = await summarizableChannel(interaction.guild, channelId);
  await requireMemberCanRead(channel, interaction.member, channel.id === interaction.channelId);
  await requireBotCanRead(channel);

  const postToOption = interaction.options.getChannel('post_to');
  const isPrivate = interaction.options.getBoolean('private') ?? false;
  if (postToOption !== null && isPrivate) throw new UserFacingError('`post_to` posts the summary for others to see, so it cannot be combined with `private`.');
  const postTo = postToOption === null ? undefined : await summarizableChannel(interaction.guild, postToOption.id);
  if (postTo !== undefined) for (const source of category?.channels ?? [channel]) await requirePostable(postTo, source, interaction.member);

  const languageText = interaction.options.getString('language');
  const count = interaction.options.getInteger('messages');
  if (count !== null && (count < 1 || count > MAX_MESSAGES)) throw new UserFacingError(`\`messages\` must be between 1 and ${MAX_MESSAGES.toLocaleString('en-US')}.`);
  return {
    channel,
    maxMessages: count ?? (since === undefined ? DEFAULT_MESSAGES : MAX_MESSAGES),
    since,
    routing: routingOptions(interaction),
    private: isPrivate,
    ...(languageText === null ? {} : { language: languageCode(languageText) }),
    ...(category === undefined ? {} : { category }),
    ...(interaction.options.getString('format') === 'file' ? { format: 'file' as const } : {}),
    ...(postTo === undefined ? {} : { postTo }),
  };
}

function withLanguage(asked: SummaryRequest, request: CheckedRequest): SummaryRequest {
  return request.language === undefined ? asked : { ...asked, locale: request.language };
}

async function categoryRequest(interaction: ChatInputCommandInteraction<'cached'>, categoryId: string, exclude: string | null): Promise<NonNullable<CheckedRequest['category']>> {
  const channel = interaction.guild.channels.cache.get(categoryId);
  if (channel?.type !== ChannelType.GuildCategory) throw new UserFacingError(`<#${categoryId}> is not a category I can see.`);
  return { channel, ...(await categoryChannels(channel, interaction.member, exclude)) };
}

/**
 * A category summary: each channel read and summarized on its own, then one
 * document with a section per channel, citations linking into each, and a
 * result adding up their size and cost.
 */
async function summarizeSections(
  interaction: SummarizeInteraction,
  request: CheckedRequest,
  category: NonNullable<CheckedRequest['category']>,
  ctx: CommandContext,
  show: (text: string) => void,
): Promise<{ read: ChannelRead; asked: SummaryRequest; result: SummaryResult; rendered: string; summaryIds: Array<string | null> }> {
  const sections: string[] = [];
  const results: SummaryResult[] = [];
  let first: { read: ChannelRead; asked: SummaryRequest } | undefined;
  for (const [index, channel] of category.channels.entries()) {
    const where = `<#${channel.id}> (${index + 1} of ${category.channels.length})`;
    const read = await readChannel({
      channel,
      maxMessages: request.maxMessages,
      ...(request.since === undefined ? {} : { since: request.since }),
      memberNames: ctx.memory.memberNames,
      onProgress: (count) => show(`Reading ${where}… ${count.toLocaleString('en-US')} messages so far`),
    });
    if (read.prepared.messages.length === 0) {
      sections.push(`## #${channel.name}
${capitalize(nothingToSummarize(read.prepared, read.channelName))}.`);
      continue;
    }
    const asked = withLanguage(await summaryRequest(interaction, channel, request.routing, ctx), request);
    first ??= { read, asked };
    const count = read.prepared.messages.length;
    show(`Summarizing ${where}…`);
    const result = await ctx.services.summarizer.summarize(read.prepared, { ...asked, userId: interaction.user.id, correlationId: ctx.correlationId });
    results.push(result);
    sections.push(`## #${channel.name}
${renderCitations(result.text, result.citations, discordCitationStyle)}`);
    ctx.logger.debug({ channelId: channel.id, messages: count }, 'category section summarized');
  }
  const lead = results[0];
  if (first === undefined || lead === undefined) {
    throw new UserFacingError(`Nothing to summarize in the ${category.channel.name} category: its channels have no messages in the requested range.${windowNote(request)}`);
  }
  const result: SummaryResult = {
    ...lead,
    messages: results.reduce((n, r) => n + r.messages, 0),
    chunks: results.reduce((n, r) => n + r.chunks, 0),
    costUsd: results.reduce((n, r) => n + r.costUsd, 0),
    reused: results.every((r) => r.reused),
    warnings: results.flatMap((r) => r.warnings),
  };
  return { ...first, result, rendered: sections.join('\n\n'), summaryIds: results.map((r) => r.summaryId) };
}

/** Permissions may have changed while the summary was written: the reason it may no longer be posted there, if any. */
async function notPostableNow(destination: GuildTextBasedChannel, source: GuildTextBasedChannel): Promise<string | undefined> {
  try {
    await requireVisibleThere(destination, source);
    return undefined;
  } catch (error) {
    if (error instanceof UserFacingError) return `${error.message} Here it is for you alone.`;
    throw error;
  }
}

/** Where a summary was posted publicly: its messages, first first. */
interface Posted {
  channelId: string;
  messageIds: string[];
}

/** History links to the posts; a failure to record loses the link, never the summary. */
async function recordPosts(ctx: CommandContext, guildId: string, posted: Posted, summaryIds: ReadonlyArray<string | null>): Promise<void> {
  for (const summaryId of new Set(summaryIds)) {
    if (summaryId === null) continue;
    await recordSummaryPost(ctx.services.db, { summaryId, guildId, ...posted }).catch((error: unknown) =>
      ctx.logger.warn({ err: error, summaryId }, 'could not record where a summary was posted'),
    );
  }
}

/** `post_to`: the summary goes to that channel, and the member's reply links to it. */
async function postElsewhere(interaction: SummarizeInteraction, destination: GuildTextBasedChannel, messages: readonly EmbedMessage[], result: SummaryResult): Promise<Posted> {
  let first: string | undefined;
  const messageIds: string[] = [];
  for (const message of messages) {
    const sent = await destination.send(message);
    first ??= sent.url;
    messageIds.push(sent.id);
  }
  const parts = messages.length === 1 ? '' : ` in ${messages.length} messages`;
  await respond(interaction, { content: `Summarized ${result.messages.toLocaleString('en-US')} messages; posted the summary in <#${destination.id}>${parts}: ${first ?? ''}`, embeds: [] });
  return { channelId: destination.id, messageIds };
}

async function requireMessage(channel: GuildTextBasedChannel, messageId: string): Promise<void> {
  const found = await channel.messages.fetch({ message: messageId, cache: false }).then(
    () => true,
    () => false,
  );
  if (!found) throw new UserFacingError(`That message link points to a message I can't find in <#${channel.id}>.`);
}

function windowNote(request: CheckedRequest): string {
  if (request.since?.kind === 'duration') return ' Try a longer `since`.';
  if (request.since?.kind === 'after-message') return ' Nothing from members was posted from that message on.';
  return '';
}

function titleFor(type: string, channelName: string, kind: 'channel' | 'category' = 'channel'): string {
  const where = kind === 'category' ? `the ${channelName} category` : `#${channelName}`;
  if (type === 'action_items') return `Action items from ${where}`;
  return `${capitalize(type.replace(/_/g, ' '))} summary of ${where}`;
}

function capitalize(text: string): string {
  return text.length === 0 ? text : `${text[0]!.toUpperCase()}${text.slice(1)}`;
}

/**
 * The line explaining why the summary is shown to the asker alone, or
 * undefined when everyone who can view the channel the command ran in (where
 * public follow-ups land) can read the summarized channel.
 */
async function whyOnlyYou(interaction: SummarizeInteraction, source: GuildTextBasedChannel, ctx: CommandContext): Promise<string | undefined> {
  const destination = !interaction.inCachedGuild() ? null : (interaction.channel ?? (await interaction.guild.channels.fetch(interaction.channelId).catch(() => null)));
  // Whatever goes wrong deciding, the summary is still delivered: privately.
  const verdict = await visibleToAudienceOf(destination, source).catch((error: unknown): Visibility => {
    ctx.logger.warn({ err: error }, 'could not decide who may see the summary; showing it privately');
    return { visible: false, why: { kind: 'unknown-channel' } };
  });
  if (verdict.visible) return undefined;
  ctx.logger.info({ reason: verdict.why.kind, sourceId: source.id, destinationId: interaction.channelId }, 'summary shown privately: not every viewer here can read the source');
  return privateBecause(verdict.why, interaction.channelId, source.id);
}

/**
 * Private: the summary replaces the ephemeral "working" reply (led by the
 * reason when the bot chose privacy), the rest follows ephemerally. Public:
 * the ephemeral reply says where the summary is, and the summary follows as
 * public messages.
 */
async function post(
  interaction: SummarizeInteraction,
  messages: readonly EmbedMessage[],
  isPrivate: boolean,
  result: SummaryResult,
  reason?: string,
  cut?: string,
): Promise<Posted | undefined> {
  if (isPrivate) {
    const lead = [reason, cut].filter((line): line is string => line !== undefined).join('\n');
    for (const [index, message] of messages.entries()) {
      await respond(interaction, { content: index === 0 ? lead : '', ...message, ephemeral: true });
    }
    return undefined;
  }
  const parts = messages.length === 1 ? '' : ` in ${messages.length} messages`;
  await respond(interaction, { content: `Summarized ${result.messages.toLocaleString('en-US')} messages; posting the summary below${parts}.${cut === undefined ? '' : `\n${cut}`}`, embeds: [] });
  // The reply above was the first answer, so each part is a public follow-up in this channel.
  const messageIds: string[] = [];
  for (const message of messages) messageIds.push((await interaction.followUp({ ...message })).id);
  return { channelId: interaction.channelId, messageIds };
}
