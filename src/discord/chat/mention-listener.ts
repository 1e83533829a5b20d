/**
 * Chat by mentioning the bot: "@recap-bot what did we decide about the
 * release?", answered from the channel's history as /ask is (see
 * `channel-history.ts`). In a channel, the bot starts a thread from that message and
 * answers there; in a thread (one it started or any other), it answers in
 * place. Each thread has its own memory. Messages from bots, the bot itself
 * included, are ignored, as are messages that do not mention the bot.
 */
import { cleanContent, Events, type Client, type Message } from 'discord.js';
import type { Logger } from '../../log/logger.ts';
import type { Dispatcher } from '../dispatcher.ts';
import { newCorrelationId } from '../dispatcher.ts';
import { GENERIC_FAILURE, UserFacingError } from '../errors.ts';
import { createMemberNames } from '../history/member-names.ts';
import type { BotServices } from '../services.ts';
import { THREAD_ARCHIVE, answerParts, askInThread, canHoldThreads, missingChatPermissions, sendParts, threadNameFor } from './conversation.ts';

export interface MentionChatDeps {
  services: BotServices;
  logger: Logger;
}

export interface MentionChat {
  /** Pass as `onClient` to `startBot`: attaches the message listener. */
  onClient(client: Client, dispatcher: Dispatcher): void;
  /** Answers being written right now. */
  readonly inFlight: number;
  /** Stops taking new mentions and waits (at most `timeoutMs`) for answers being written. */
  drain(timeoutMs: number): Promise<void>;
}

export function createMentionChat(deps: MentionChatDeps): MentionChat {
  const running = new Set<Promise<void>>();
  const memberNames = createMemberNames();
  let draining = false;

  const handle = async (message: Message, botId: string): Promise<void> => {
    const question = questionOf(message, botId);
    if (question === undefined) return;
    const correlationId = newCorrelationId();
    const logger = deps.logger.child({ correlationId, guildId: message.guildId ?? undefined, userId: message.author.id, via: 'mention' });
    const channel = message.channel;
    if (!message.inGuild() || channel.isDMBased()) return;
    try {
      if (question === '') {
        throw new UserFacingError(`Ask me something after the mention, for example: <@${botId}> what was decided about the release?`);
      }
      const inThread = channel.isThread();
      if (!inThread && !canHoldThreads(channel)) throw new UserFacingError('I answer in threads: mention me in a text channel or a thread.');
      const missing = missingChatPermissions(channel, inThread);
      if (missing.length > 0) throw new UserFacingError(`I can't answer here: I need ${missing.join(', ')}.`);

      const member = message.member ?? (await message.guild.members.fetch(message.author.id));
      const thread = inThread ? channel : await message.startThread({ name: threadNameFor(question), autoArchiveDuration: THREAD_ARCHIVE });
      await thread.sendTyping().catch(() => undefined);
      const { answer, history } = await askInThread(
        { services: deps.services, correlationId, logger },
        {
          thread,
          userId: message.author.id,
          userName: member.displayName,
          text: question,
          member,
          askedIn: channel,
          rawText: message.content,
          botId,
          memberNames,
        },
      );
      await sendParts(thread, answerParts(answer, undefined, history), inThread ? message : undefined);
      logger.info(
        { threadId: thread.id, provider: answer.provider, model: answer.model, searched: history.histories.length, skipped: history.skipped.length, cited: answer.citations.length },
        'answered a mention',
      );
    } catch (error) {
      const known = error instanceof UserFacingError;
      if (known) logger.info({ reason: error.message }, 'mention refused');
      else logger.error({ err: error }, 'answering a mention failed');
      const text = `${known ? error.message : GENERIC_FAILURE} (ref \`${correlationId}\`)`;
      await message.reply({ content: text, allowedMentions: { parse: [], repliedUser: false } }).catch((replyError: unknown) => {
        logger.warn({ err: replyError }, 'could not tell the member about the failure');
      });
    }
  };

  return {
    onClient(client) {
      client.on(Events.MessageCreate, (message) => {
        const botId = client.user?.id;
        if (draining || botId === undefined) return;
        // Cheap checks first: most messages are not for the bot.
        if (message.author.bot || message.webhookId !== null || message.system || !message.inGuild()) return;
        if (!mentionsBot(message, botId)) return;
        const task = handle(message, botId).catch((error: unknown) => deps.logger.error({ err: error }, 'mention handler failed'));
        running.add(task);
        void task.finally(() => running.delete(task));
      });
    },
    get inFlight() {
      return running.size;
    },
    async drain(timeoutMs) {
      draining = true;
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
      await Promise.race([Promise.allSettled([...running]), deadline]);
    },
  };
}

/** A direct mention in the text; a reply that merely pings the bot's message does not count, nor do @everyone and roles. */
function mentionsBot(message: Message, botId: string): boolean {
  return new RegExp(`<@!?${botId}>`).test(message.content);
}

/** The question without the bot's mention, other mentions shown as names; undefined when not addressed to the bot. */
function questionOf(message: Message, botId: string): string | undefined {
  if (!mentionsBot(message, botId)) return undefined;
  const stripped = message.content.replace(new RegExp(`<@!?${botId}>`, 'g'), ' ');
  return cleanContent(stripped, message.channel).replace(/[ \t]+/g, ' ').trim();
}
