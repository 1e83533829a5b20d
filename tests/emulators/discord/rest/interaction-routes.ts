/**
 * Interaction callbacks and the interaction webhook (original message and follow-ups), with
 * Discord's timing rules: one callback, within the acknowledgement deadline; webhook calls only
 * after the callback and within the token's lifetime. Refusals are recorded on the handle.
 */
import { DiscordApiFailure, Failures, invalidFormBody, type FieldProblem } from '../errors.ts';
import { CallbackType, type InteractionHandle, type RecordedFollowUp } from '../interaction-handle.ts';
import { isRecord, recordArray } from '../json-input.ts';
import { MessageType } from '../message-factory.ts';
import { validateMessagePayload } from '../message-limits.ts';
import type { Reply, Route, RouteContext } from '../router.ts';
import { MessageFlag, type ApiMessage, type JsonObject, type RecordedFile } from '../model.ts';
import { checkFileSizes, objectBody, param, type RestDeps } from './context.ts';

const ALLOWED_CALLBACKS: Record<InteractionHandle['kind'], readonly number[]> = {
  command: [CallbackType.ChannelMessageWithSource, CallbackType.DeferredChannelMessageWithSource, CallbackType.Modal],
  autocomplete: [CallbackType.AutocompleteResult],
  button: [4, 5, 6, 7, 9],
  select: [4, 5, 6, 7, 9],
  'modal-submit': [4, 5, 6, 7],
};

export function interactionRoutes(deps: RestDeps): Route[] {
  const { state, settings, interactions } = deps;

  /** Runs `fn`, recording a Discord refusal on the handle before passing it on. */
  const recorded = async (handle: InteractionHandle, ctx: RouteContext, fn: () => Reply | Promise<Reply>): Promise<Reply> => {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof DiscordApiFailure) handle.recordRejection(`${ctx.method} ${ctx.path.replace(handle.token, ':token')}`, error.status, error.body);
      throw error;
    }
  };

  const isStored = (message: ApiMessage): boolean => state.channels.has(message.channel_id) && state.message(message.channel_id, message.id) === message;

  /** Non-ephemeral interaction messages are real channel messages. */
  const publishNew = (message: ApiMessage, files: RecordedFile[]): void => {
    deps.botMessageSent(message, files);
    if (message.flags & MessageFlag.Ephemeral) return;
    state.insertMessage(message);
    deps.publish.messageCreated(message);
  };

  const newMessage = (handle: InteractionHandle, body: JsonObject, files: RecordedFile[], followUp: boolean): ApiMessage => {
    const user = isRecord(handle.payload['member']) ? handle.payload['member']['user'] : handle.payload['user'];
    const data = isRecord(handle.payload['data']) ? handle.payload['data'] : {};
    return deps.messages.create({
      channel: state.channel(handle.channelId),
      author: state.bot,
      body: { ...body, message_reference: undefined },
      files,
      type: !followUp && handle.kind === 'command' ? (data['type'] === 1 ? MessageType.ChatInputCommand : MessageType.ContextMenuCommand) : MessageType.Default,
      extra: {
        webhook_id: settings.applicationId,
        application_id: settings.applicationId,
        interaction_metadata: {
          id: handle.id,
          type: handle.payload['type'],
          user,
          authorizing_integration_owners: handle.payload['authorizing_integration_owners'],
          ...(typeof data['name'] === 'string' ? { name: data['name'] } : {}),
          ...(handle.componentMessage ? { interacted_message_id: handle.componentMessage.id } : {}),
        },
      },
    });
  };

  const callback = (handle: InteractionHandle, ctx: RouteContext): Reply => {
    if (handle.acknowledged) throw Failures.alreadyAcknowledged();
    if (handle.elapsed() > interactions.ackDeadlineMs) throw Failures.unknownInteraction();
    const body = objectBody(ctx);
    const type = body['type'];
    const data = isRecord(body['data']) ? body['data'] : undefined;
    const allowed = ALLOWED_CALLBACKS[handle.kind].filter(
      (t) => (t !== CallbackType.DeferredUpdateMessage && t !== CallbackType.UpdateMessage) || handle.componentMessage,
    );
    if (typeof type !== 'number' || !allowed.includes(type)) {
      throw invalidFormBody([{ path: ['type'], code: 'INTERACTION_CALLBACK_TYPE_INVALID', message: `Value must be one of {${allowed.join(', ')}}.` }]);
    }
    const files = ctx.files;
    checkFileSizes(files, settings.attachmentSizeLimit);
    switch (type) {
      case CallbackType.ChannelMessageWithSource: {
        const payload = data ?? {};
        validateMessagePayload(payload, { creating: true, fileCount: files.length });
        const message = newMessage(handle, payload, files, false);
        publishNew(message, files);
        handle.recordCallback(type, data, files, message, false);
        break;
      }
      case CallbackType.DeferredChannelMessageWithSource: {
        const ephemeral = (typeof data?.['flags'] === 'number' ? data['flags'] : 0) & MessageFlag.Ephemeral;
        const message = newMessage(handle, { flags: ephemeral }, [], false);
        message.flags |= MessageFlag.Loading;
        publishNew(message, []);
        handle.recordCallback(type, data, [], message, true);
        break;
      }
      case CallbackType.DeferredUpdateMessage:
        handle.recordCallback(type, data, [], handle.componentMessage, true);
        break;
      case CallbackType.UpdateMessage: {
        const target = handle.componentMessage;
        if (!target) throw Failures.unknownMessage();
        const payload = data ?? {};
        validateMessagePayload(payload, { creating: false, fileCount: files.length });
        deps.messages.edit(target, payload, files);
        if (isStored(target)) deps.publish.messageUpdated(target);
        handle.recordCallback(type, data, files, target, false);
        break;
      }
      case CallbackType.AutocompleteResult:
        checkChoices(data);
        handle.recordCallback(type, data, [], undefined, false);
        break;
      case CallbackType.Modal:
        checkModal(data);
        handle.recordCallback(type, data, [], undefined, false);
        break;
    }
    if (ctx.query.get('with_response') !== 'true') return { status: 204 };
    const original = handle.liveOriginal();
    return {
      status: 200,
      body: {
        interaction: {
          id: handle.id,
          type: handle.payload['type'],
          activity_instance_id: null,
          response_message_id: original?.id ?? null,
          response_message_loading: original ? (original.flags & MessageFlag.Loading) !== 0 : null,
          response_message_ephemeral: original ? (original.flags & MessageFlag.Ephemeral) !== 0 : null,
        },
        resource: { type, ...(original ? { message: original } : {}) },
      },
    };
  };

  /** The webhook belongs to an acknowledged, unexpired interaction of this application. */
  const webhookHandle = (ctx: RouteContext): InteractionHandle => {
    const handle = interactions.byToken(param(ctx, 'token'));
    if (!handle || param(ctx, 'applicationId') !== settings.applicationId) throw Failures.unknownWebhook();
    return handle;
  };
  const usable = (handle: InteractionHandle): void => {
    if (handle.elapsed() > interactions.tokenTtlMs) throw Failures.invalidWebhookToken();
    if (!handle.acknowledged || handle.kind === 'autocomplete') throw Failures.unknownWebhook();
  };

  const originalOf = (handle: InteractionHandle): ApiMessage => {
    const original = handle.liveOriginal();
    if (!original) throw Failures.unknownMessage();
    return original;
  };
  const followUpOf = (handle: InteractionHandle, id: string): RecordedFollowUp => {
    const followUp = handle.followUps.find((f) => f.message.id === id && !f.deleted);
    if (!followUp) throw Failures.unknownMessage();
    return followUp;
  };

  const editOriginal = (handle: InteractionHandle, ctx: RouteContext): Reply => {
    const original = originalOf(handle);
    const body = objectBody(ctx);
    validateMessagePayload(body, { creating: false, fileCount: ctx.files.length });
    checkFileSizes(ctx.files, settings.attachmentSizeLimit);
    deps.messages.edit(original, body, ctx.files);
    original.flags &= ~MessageFlag.Loading;
    if (isStored(original)) deps.publish.messageUpdated(original);
    handle.recordOriginalChange('edit', ctx.files);
    return { status: 200, body: original };
  };

  const deleteOriginal = (handle: InteractionHandle): Reply => {
    const original = originalOf(handle);
    if (isStored(original)) {
      state.removeMessage(original.channel_id, original.id);
      deps.publish.messageDeleted(original.channel_id, original.id);
    }
    handle.recordOriginalDeleted();
    return { status: 204 };
  };

  const isOriginalId = (handle: InteractionHandle, id: string): boolean => id === '@original' || handle.liveOriginal()?.id === id;

  const webhook = (fn: (handle: InteractionHandle, ctx: RouteContext) => Reply) => (ctx: RouteContext) => {
    const handle = webhookHandle(ctx);
    return recorded(handle, ctx, () => {
      usable(handle);
      return fn(handle, ctx);
    });
  };

  const base = '/webhooks/:applicationId/:token';
  return [
    {
      method: 'POST',
      pattern: '/interactions/:interactionId/:token/callback',
      auth: 'none',
      major: 'interactionId',
      handler: (ctx) => {
        const handle = interactions.byId(param(ctx, 'interactionId'));
        if (!handle || handle.token !== param(ctx, 'token')) throw Failures.unknownInteraction();
        return recorded(handle, ctx, () => callback(handle, ctx));
      },
    },
    {
      method: 'POST',
      pattern: base,
      auth: 'none',
      major: 'token',
      handler: webhook((handle, ctx) => {
        const body = objectBody(ctx);
        validateMessagePayload(body, { creating: true, fileCount: ctx.files.length });
        checkFileSizes(ctx.files, settings.attachmentSizeLimit);
        const original = handle.liveOriginal();
        let message: ApiMessage;
        if (original && original.flags & MessageFlag.Loading && handle.callback?.type === CallbackType.DeferredChannelMessageWithSource) {
          // Discord: the first follow-up after a deferred reply replaces the "thinking…" message.
          deps.messages.edit(original, body, ctx.files);
          original.flags &= ~MessageFlag.Loading;
          if (isStored(original)) deps.publish.messageUpdated(original);
          handle.recordOriginalChange('follow-up', ctx.files);
          message = original;
        } else {
          message = newMessage(handle, body, ctx.files, true);
          publishNew(message, ctx.files);
        }
        handle.recordFollowUp(message, ctx.files);
        return ctx.query.get('wait') === 'true' ? { status: 200, body: message } : { status: 204 };
      }),
    },
    {
      method: 'GET',
      pattern: `${base}/messages/:messageId`,
      auth: 'none',
      major: 'token',
      handler: webhook((handle, ctx) => {
        const id = param(ctx, 'messageId');
        return { status: 200, body: isOriginalId(handle, id) ? originalOf(handle) : followUpOf(handle, id).message };
      }),
    },
    {
      method: 'PATCH',
      pattern: `${base}/messages/:messageId`,
      auth: 'none',
      major: 'token',
      handler: webhook((handle, ctx) => {
        const id = param(ctx, 'messageId');
        if (isOriginalId(handle, id)) return editOriginal(handle, ctx);
        const followUp = followUpOf(handle, id);
        const body = objectBody(ctx);
        validateMessagePayload(body, { creating: false, fileCount: ctx.files.length });
        checkFileSizes(ctx.files, settings.attachmentSizeLimit);
        deps.messages.edit(followUp.message, body, ctx.files);
        if (isStored(followUp.message)) deps.publish.messageUpdated(followUp.message);
        handle.recordFollowUpEdit(followUp, ctx.files);
        return { status: 200, body: followUp.message };
      }),
    },
    {
      method: 'DELETE',
      pattern: `${base}/messages/:messageId`,
      auth: 'none',
      major: 'token',
      handler: webhook((handle, ctx) => {
        const id = param(ctx, 'messageId');
        if (isOriginalId(handle, id)) return deleteOriginal(handle);
        const followUp = followUpOf(handle, id);
        if (isStored(followUp.message)) {
          state.removeMessage(followUp.message.channel_id, followUp.message.id);
          deps.publish.messageDeleted(followUp.message.channel_id, followUp.message.id);
        }
        handle.recordFollowUpDeleted(followUp);
        return { status: 204 };
      }),
    },
  ];
}

function checkChoices(data: JsonObject | undefined): void {
  const problems: FieldProblem[] = [];
  const choices = data?.['choices'];
  if (!Array.isArray(choices)) {
    problems.push({ path: ['data', 'choices'], code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
  } else {
    if (choices.length > 25) problems.push({ path: ['data', 'choices'], code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 25 or fewer in length.' });
    recordArray(choices).forEach((choice, i) => {
      const name = choice['name'];
      if (typeof name !== 'string' || name.length < 1 || name.length > 100) {
        problems.push({ path: ['data', 'choices', i, 'name'], code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' });
      }
      const value = choice['value'];
      if (typeof value === 'string' ? value.length > 100 : typeof value !== 'number') {
        problems.push({ path: ['data', 'choices', i, 'value'], code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' });
      }
    });
  }
  if (problems.length > 0) throw invalidFormBody(problems);
}

function checkModal(data: JsonObject | undefined): void {
  const problems: FieldProblem[] = [];
  const title = data?.['title'];
  const customId = data?.['custom_id'];
  const components = data?.['components'];
  if (typeof title !== 'string' || title.length < 1 || title.length > 45) {
    problems.push({ path: ['data', 'title'], code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 45 in length.' });
  }
  if (typeof customId !== 'string' || customId.length < 1 || customId.length > 100) {
    problems.push({ path: ['data', 'custom_id'], code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' });
  }
  if (!Array.isArray(components) || components.length < 1 || components.length > 5) {
    problems.push({ path: ['data', 'components'], code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 5 in length.' });
  }
  if (problems.length > 0) throw invalidFormBody(problems);
}
