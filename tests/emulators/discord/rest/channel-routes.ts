/** Channel, message, thread and DM routes, with the bot's channel permissions enforced. */
import { DiscordApiFailure, Failures, invalidFormBody } from '../errors.ts';
import { Intent, messageVisibleTo } from '../intents.ts';
import { isRecord, optionalInteger, optionalString } from '../json-input.ts';
import { validateMessagePayload } from '../message-limits.ts';
import { Permission, hasPermission } from '../permissions.ts';
import type { Route, RouteContext } from '../router.ts';
import { apiChannel } from '../serialize.ts';
import { compareSnowflakes } from '../snowflake.ts';
import { startThreadFromMessage } from '../thread-start.ts';
import { ChannelType, THREAD_TYPES, type ApiMessage, type JsonObject, type StoredChannel } from '../model.ts';
import {
  channelOr404,
  checkFileSizes,
  objectBody,
  param,
  requireBotPermission,
  snowflakeQuery,
  type RestDeps,
} from './context.ts';

const NOT_TEXT = () => new DiscordApiFailure(400, 50008, 'Cannot send messages in a non-text channel');
const WRONG_CHANNEL_TYPE = () => new DiscordApiFailure(400, 50024, 'Cannot execute action on this channel type');
const ARCHIVED = () => new DiscordApiFailure(400, 50083, 'Thread is archived');

export function channelRoutes(deps: RestDeps): Route[] {
  const { state } = deps;
  const view = Permission.ViewChannel;

  const readable = (ctx: RouteContext): StoredChannel => {
    const channel = channelOr404(state, ctx.params['channelId']);
    requireBotPermission(state, channel, view, view);
    return channel;
  };

  /** REST hides content too unless the app has the MESSAGE_CONTENT intent enabled. */
  const visible = (channel: StoredChannel, message: ApiMessage): ApiMessage =>
    messageVisibleTo(deps.settings.enabledPrivilegedIntents, message, state.bot.id, channel.guildId === null);

  const ownMessage = (ctx: RouteContext): { channel: StoredChannel; message: ApiMessage } => {
    const channel = readable(ctx);
    const message = state.message(channel.id, param(ctx, 'messageId'));
    if (!message) throw Failures.unknownMessage();
    return { channel, message };
  };

  return [
    { method: 'GET', pattern: '/channels/:channelId', auth: 'bot', major: 'channelId', handler: (ctx) => ({ status: 200, body: apiChannel(state, readable(ctx)) }) },
    {
      method: 'GET',
      pattern: '/channels/:channelId/messages',
      auth: 'bot',
      major: 'channelId',
      handler: (ctx) => {
        const channel = readable(ctx);
        const page = historyPage(state.messages(channel.id), ctx);
        // Discord answers an empty list, not an error, without READ_MESSAGE_HISTORY.
        if (!hasPermission(state.permissionsIn(channel.id, state.bot.id), Permission.ReadMessageHistory)) return { status: 200, body: [] };
        return { status: 200, body: page.map((m) => visible(channel, m)) };
      },
    },
    {
      method: 'GET',
      pattern: '/channels/:channelId/messages/:messageId',
      auth: 'bot',
      major: 'channelId',
      handler: (ctx) => {
        const { channel, message } = ownMessage(ctx);
        requireBotPermission(state, channel, Permission.ReadMessageHistory, view);
        return { status: 200, body: visible(channel, message) };
      },
    },
    {
      method: 'POST',
      pattern: '/channels/:channelId/messages',
      auth: 'bot',
      major: 'channelId',
      handler: (ctx) => {
        const channel = channelOr404(state, ctx.params['channelId']);
        if (channel.type === ChannelType.GuildForum || channel.type === ChannelType.GuildCategory) throw NOT_TEXT();
        const body = objectBody(ctx);
        requireBotPermission(state, channel, channel.thread ? Permission.SendMessagesInThreads : Permission.SendMessages, view);
        if (ctx.files.length > 0) requireBotPermission(state, channel, Permission.AttachFiles, view);
        reopenThread(deps, channel);
        validateMessagePayload(body, { creating: true, fileCount: ctx.files.length });
        checkFileSizes(ctx.files, deps.settings.attachmentSizeLimit);
        const message = deps.messages.create({ channel, author: state.bot, body, files: ctx.files });
        state.insertMessage(message);
        // Posting in a thread joins it.
        if (channel.thread && !channel.thread.memberIds.has(state.bot.id)) {
          state.addThreadMember(channel.id, state.bot.id);
          deps.publish.threadMembersUpdated(channel, { added: [state.bot.id] });
        }
        deps.botMessageSent(message, ctx.files);
        deps.publish.messageCreated(message);
        return { status: 200, body: message };
      },
    },
    {
      method: 'PATCH',
      pattern: '/channels/:channelId/messages/:messageId',
      auth: 'bot',
      major: 'channelId',
      handler: (ctx) => {
        const { message } = ownMessage(ctx);
        if (message.author.id !== state.bot.id) throw Failures.notAuthor();
        const body = objectBody(ctx);
        validateMessagePayload(body, { creating: false, fileCount: ctx.files.length });
        checkFileSizes(ctx.files, deps.settings.attachmentSizeLimit);
        deps.messages.edit(message, body, ctx.files);
        deps.publish.messageUpdated(message);
        return { status: 200, body: message };
      },
    },
    {
      method: 'DELETE',
      pattern: '/channels/:channelId/messages/:messageId',
      auth: 'bot',
      major: 'channelId',
      handler: (ctx) => {
        const { channel, message } = ownMessage(ctx);
        if (message.author.id !== state.bot.id) requireBotPermission(state, channel, Permission.ManageMessages, view);
        state.removeMessage(channel.id, message.id);
        deps.publish.messageDeleted(channel.id, message.id);
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      pattern: '/channels/:channelId/typing',
      auth: 'bot',
      major: 'channelId',
      handler: (ctx) => {
        const channel = channelOr404(state, ctx.params['channelId']);
        requireBotPermission(state, channel, channel.thread ? Permission.SendMessagesInThreads : Permission.SendMessages, view);
        return { status: 204 };
      },
    },
    {
      method: 'PUT',
      pattern: '/channels/:channelId/messages/:messageId/reactions/:emoji/@me',
      auth: 'bot',
      major: 'channelId',
      handler: (ctx) => {
        const { channel, message } = ownMessage(ctx);
        requireBotPermission(state, channel, Permission.AddReactions | Permission.ReadMessageHistory, view);
        addOwnReaction(message, param(ctx, 'emoji'));
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      pattern: '/channels/:channelId/messages/:messageId/threads',
      auth: 'bot',
      major: 'channelId',
      handler: (ctx) => {
        const { channel, message } = ownMessage(ctx);
        if (channel.type !== ChannelType.GuildText && channel.type !== ChannelType.GuildAnnouncement) throw WRONG_CHANNEL_TYPE();
        requireBotPermission(state, channel, Permission.CreatePublicThreads, view);
        if (message.thread || state.channels.has(message.id)) throw Failures.threadAlreadyCreated();
        const body = objectBody(ctx);
        const thread = startThreadFromMessage(state, deps.messages, channel, message, { name: threadName(body), ownerId: state.bot.id, autoArchiveDuration: archiveDuration(body) });
        deps.publish.channelCreated(thread);
        return { status: 201, body: apiChannel(state, thread) };
      },
    },
    {
      method: 'POST',
      pattern: '/channels/:channelId/threads',
      auth: 'bot',
      major: 'channelId',
      handler: (ctx) => {
        const channel = readable(ctx);
        const body = objectBody(ctx);
        if (channel.type === ChannelType.GuildForum) return createForumPost(deps, channel, body, ctx);
        if (channel.type !== ChannelType.GuildText && channel.type !== ChannelType.GuildAnnouncement) throw WRONG_CHANNEL_TYPE();
        const type = optionalInteger(body['type']) ?? ChannelType.PrivateThread;
        if (!THREAD_TYPES.has(type)) throw invalidFormBody([{ path: ['type'], code: 'BASE_TYPE_CHOICES', message: 'Value must be one of {10, 11, 12}.' }]);
        requireBotPermission(state, channel, type === ChannelType.PrivateThread ? Permission.CreatePrivateThreads : Permission.CreatePublicThreads, view);
        const thread = state.addThread(channel, { name: threadName(body), type, ownerId: state.bot.id, autoArchiveDuration: archiveDuration(body) });
        deps.publish.channelCreated(thread);
        return { status: 201, body: apiChannel(state, thread) };
      },
    },
    {
      method: 'GET',
      pattern: '/channels/:channelId/threads/archived/public',
      auth: 'bot',
      major: 'channelId',
      handler: (ctx) => {
        const channel = readable(ctx);
        requireBotPermission(state, channel, Permission.ReadMessageHistory, view);
        const threads = [...state.channels.values()].filter((c) => c.parentId === channel.id && c.thread?.archived && c.type !== ChannelType.PrivateThread);
        return { status: 200, body: { threads: threads.map((t) => apiChannel(state, t)), members: [], has_more: false } };
      },
    },
    {
      method: 'GET',
      pattern: '/channels/:channelId/thread-members/:userId',
      auth: 'bot',
      major: 'channelId',
      handler: (ctx) => {
        const thread = threadOf(readable(ctx));
        const userId = param(ctx, 'userId');
        if (!thread.thread!.memberIds.has(userId)) throw Failures.unknownMember();
        return { status: 200, body: apiThreadMember(thread, userId) };
      },
    },
    {
      method: 'GET',
      pattern: '/channels/:channelId/thread-members',
      auth: 'bot',
      major: 'channelId',
      handler: (ctx) => {
        const thread = threadOf(readable(ctx));
        // Listing a thread's members is for apps with the GUILD_MEMBERS intent enabled.
        if ((deps.settings.enabledPrivilegedIntents & Intent.GuildMembers) === 0) throw Failures.missingAccess();
        return { status: 200, body: [...thread.thread!.memberIds].map((userId) => apiThreadMember(thread, userId)) };
      },
    },
    {
      method: 'PUT',
      pattern: '/channels/:channelId/thread-members/:userId',
      auth: 'bot',
      major: 'channelId',
      handler: (ctx) => {
        const thread = threadOf(readable(ctx));
        const raw = param(ctx, 'userId');
        const userId = raw === '@me' ? state.bot.id : raw;
        if (thread.guildId === null || !state.member(thread.guildId, userId)) throw Failures.unknownMember();
        if (raw !== '@me') requireBotPermission(state, thread, Permission.SendMessagesInThreads, view);
        if (thread.thread!.locked || thread.thread!.archived) throw ARCHIVED();
        if (!thread.thread!.memberIds.has(userId)) {
          state.addThreadMember(thread.id, userId);
          deps.publish.threadMembersUpdated(thread, { added: [userId] });
        }
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      pattern: '/channels/:channelId/thread-members/:userId',
      auth: 'bot',
      major: 'channelId',
      handler: (ctx) => {
        const thread = threadOf(readable(ctx));
        const raw = param(ctx, 'userId');
        if (raw !== '@me') requireBotPermission(state, thread, Permission.ManageThreads, view);
        const userId = raw === '@me' ? state.bot.id : raw;
        if (thread.thread!.memberIds.has(userId)) {
          state.removeThreadMember(thread.id, userId);
          deps.publish.threadMembersUpdated(thread, { removed: [userId] });
        }
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      pattern: '/users/@me/channels',
      auth: 'bot',
      handler: (ctx) => {
        const recipient = optionalString(objectBody(ctx)['recipient_id']);
        if (recipient === undefined || !state.users.has(recipient)) throw Failures.unknownUser();
        return { status: 200, body: apiChannel(state, state.dmChannel(recipient)) };
      },
    },
  ];
}

function threadOf(channel: StoredChannel): StoredChannel {
  if (!channel.thread) throw WRONG_CHANNEL_TYPE();
  return channel;
}

/** A thread member object (`GET /channels/:id/thread-members/:user`). */
function apiThreadMember(thread: StoredChannel, userId: string): JsonObject {
  return { id: thread.id, user_id: userId, join_timestamp: thread.thread!.createTimestamp, flags: 0 };
}

/** One page of history, newest first, following Discord's `limit`/`before`/`after`/`around`. */
function historyPage(history: readonly ApiMessage[], ctx: RouteContext): ApiMessage[] {
  const rawLimit = ctx.query.get('limit');
  const limit = rawLimit === null ? 50 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw invalidFormBody([
      limit > 100
        ? { path: ['limit'], code: 'NUMBER_TYPE_MAX', message: 'Must be less than or equal to 100.' }
        : { path: ['limit'], code: 'NUMBER_TYPE_MIN', message: 'Must be greater than or equal to 1.' },
    ]);
  }
  const before = snowflakeQuery(ctx, 'before');
  const after = snowflakeQuery(ctx, 'after');
  const around = snowflakeQuery(ctx, 'around');
  if ([before, after, around].filter((v) => v !== undefined).length > 1) {
    throw invalidFormBody([{ path: [], code: 'BASE_TYPE_INVALID', message: 'Only one of before, after and around may be given.' }]);
  }
  let page: readonly ApiMessage[];
  if (before !== undefined) {
    const older = history.filter((m) => compareSnowflakes(m.id, before) < 0);
    page = older.slice(Math.max(0, older.length - limit));
  } else if (after !== undefined) {
    page = history.filter((m) => compareSnowflakes(m.id, after) > 0).slice(0, limit);
  } else if (around !== undefined) {
    const pivot = history.findIndex((m) => compareSnowflakes(m.id, around) >= 0);
    const at = pivot < 0 ? history.length : pivot;
    const start = Math.max(0, Math.min(at - Math.floor(limit / 2), history.length - limit));
    page = history.slice(start, start + limit);
  } else {
    page = history.slice(Math.max(0, history.length - limit));
  }
  return [...page].reverse();
}

function threadName(body: JsonObject): string {
  const name = body['name'];
  if (typeof name !== 'string' || name.length < 1 || name.length > 100) {
    throw invalidFormBody([{ path: ['name'], code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' }]);
  }
  return name;
}

function archiveDuration(body: JsonObject): number {
  const value = body['auto_archive_duration'] ?? 1440;
  if (![60, 1440, 4320, 10080].includes(value as number)) {
    throw invalidFormBody([{ path: ['auto_archive_duration'], code: 'BASE_TYPE_CHOICES', message: 'Value must be one of {60, 1440, 4320, 10080}.' }]);
  }
  return value as number;
}

/** Sending to an archived thread unarchives it, unless it is locked. */
function reopenThread(deps: RestDeps, channel: StoredChannel): void {
  const thread = channel.thread;
  if (!thread?.archived) return;
  if (thread.locked && !hasPermission(deps.state.permissionsIn(channel.id, deps.state.bot.id), Permission.ManageThreads)) throw ARCHIVED();
  thread.archived = false;
  deps.publish.channelUpdated(channel);
}

function createForumPost(deps: RestDeps, forum: StoredChannel, body: JsonObject, ctx: RouteContext) {
  const { state } = deps;
  requireBotPermission(state, forum, Permission.SendMessages, Permission.ViewChannel);
  const starter = body['message'];
  if (!isRecord(starter)) throw invalidFormBody([{ path: ['message'], code: 'BASE_TYPE_REQUIRED', message: 'This field is required' }]);
  validateMessagePayload(starter, { creating: true, fileCount: ctx.files.length });
  checkFileSizes(ctx.files, deps.settings.attachmentSizeLimit);
  const tags = Array.isArray(body['applied_tags']) ? body['applied_tags'].map(String) : [];
  const known = new Set(forum.availableTags.map((t) => String(t['id'])));
  if (tags.some((t) => !known.has(t))) throw invalidFormBody([{ path: ['applied_tags'], code: 'BASE_TYPE_CHOICES', message: 'Unknown tag.' }]);
  const thread = state.addThread(forum, { name: threadName(body), type: ChannelType.PublicThread, ownerId: state.bot.id, autoArchiveDuration: archiveDuration(body) });
  if (thread.thread) thread.thread.appliedTags = tags;
  const message = deps.messages.create({ channel: thread, author: state.bot, body: starter, files: ctx.files, id: thread.id });
  state.insertMessage(message);
  deps.publish.channelCreated(thread);
  deps.botMessageSent(message, ctx.files);
  deps.publish.messageCreated(message);
  return { status: 201, body: { ...apiChannel(state, thread), message } };
}

/** `emoji` is a unicode emoji or `name:id` for custom ones. */
function addOwnReaction(message: ApiMessage, emoji: string): void {
  const reactions = message.reactions ?? [];
  const [name = emoji, id = null] = emoji.split(':');
  const existing = reactions.find((r) => isRecord(r['emoji']) && r['emoji']['name'] === name);
  if (existing && existing['me'] === true) return;
  if (existing) {
    existing['count'] = Number(existing['count']) + 1;
    existing['me'] = true;
  } else {
    reactions.push({ count: 1, me: true, emoji: { id, name } });
  }
  message.reactions = reactions;
}
