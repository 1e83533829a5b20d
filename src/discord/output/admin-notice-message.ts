/**
 * How an admin notice looks in the notices channel, and the poster that
 * sends it over Discord's REST API (any process with the bot token can
 * post: the web hosts that receive GitHub pushes hold no gateway session).
 * A notice's text is data: markdown and mentions in it are neutralized, and
 * it is sent with no allowed mentions; only whole `https://` links stay
 * links.
 */
import { REST, Routes, type APIMessage } from 'discord.js';
import type { Secret } from '../../config/secret.ts';
import type { AdminNotice } from '../../notices/admin-notice.ts';
import type { NoticePoster } from '../../notices/sink.ts';
import { DiscordLimits } from '../format/limits.ts';
import { truncate } from '../format/text.ts';
import { plainText as plain } from '../format/untrusted.ts';

export interface NoticeMessage {
  content: string;
  allowedMentions: { parse: [] };
}

export function noticeMessage(notice: AdminNotice, counts: { previousRepeats: number }): NoticeMessage {
  const parts = [`**⚠️ ${plain(notice.title)}**`, ...notice.lines.map(plain)];
  if (notice.link !== undefined) parts.push(plain(notice.link));
  if (counts.previousRepeats > 1) parts.push(`_(This happened ${counts.previousRepeats} times in the hour before; further repeats within the hour are counted, not posted.)_`);
  return { content: truncate(parts.join('\n'), DiscordLimits.content), allowedMentions: { parse: [] } };
}

export function restNoticePoster(rest: REST): NoticePoster {
  return {
    async post(channelId, notice, counts) {
      const message = noticeMessage(notice, counts);
      const sent = (await rest.post(Routes.channelMessages(channelId), {
        body: { content: message.content, allowed_mentions: { parse: [] } },
      })) as APIMessage;
      return { messageId: sent.id };
    },
  };
}

/** A poster over its own REST client: works in any process holding the bot token, gateway or not. */
export function createNoticePoster(token: Secret, apiUrl: string | undefined): NoticePoster {
  return restNoticePoster(new REST(apiUrl === undefined ? {} : { api: apiUrl }).setToken(token.reveal()));
}
