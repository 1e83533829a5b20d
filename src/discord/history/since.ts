/**
 * The `since` option of /summarize: a duration back from now (`30m`, `2h`,
 * `3d`, at most 14 days) or a message link, meaning everything after that
 * message.
 */
import { SnowflakeUtil } from 'discord.js';
import { DurationError, parseDuration } from '../../conversation/duration.ts';
import { isSnowflake } from '../../conversation/snowflake.ts';
import { UserFacingError } from '../errors.ts';

const MAX_SINCE_MS = 14 * 24 * 3_600_000;

export type SinceBoundary =
  | { kind: 'duration'; sinceMs: number; durationMs: number }
  | { kind: 'after-message'; guildId: string; channelId: string; messageId: string; sinceMs: number };

const LINK = /^<?https:\/\/(?:(?:ptb|canary)\.)?discord(?:app)?\.com\/channels\/(\d{1,20}|@me)\/(\d{1,20})\/(\d{1,20})\/?>?$/i;

/** @throws UserFacingError saying what is wrong with the value and how to write it. */
export function parseSince(text: string, now: number): SinceBoundary {
  const input = text.trim();
  if (/^<?https?:\/\//i.test(input)) {
    const match = LINK.exec(input);
    if (match === null) {
      throw new UserFacingError('`since` takes a message link like https://discord.com/channels/<server>/<channel>/<message> (from "Copy Message Link"), or a duration like 2h.');
    }
    const [, guildId = '', channelId = '', messageId = ''] = match;
    if (guildId === '@me' || !isSnowflake(channelId) || !isSnowflake(messageId)) {
      throw new UserFacingError('That message link does not point to a message on this server.');
    }
    const sinceMs = SnowflakeUtil.timestampFrom(messageId);
    if (sinceMs > now + 60_000) throw new UserFacingError('That message link names a message from the future; copy the link again.');
    return { kind: 'after-message', guildId, channelId, messageId, sinceMs };
  }
  try {
    const durationMs = parseDuration(input, { max: MAX_SINCE_MS });
    return { kind: 'duration', sinceMs: now - durationMs, durationMs };
  } catch (error) {
    if (error instanceof DurationError) throw new UserFacingError(`\`since\`: ${error.message} (or paste a message link).`);
    throw error;
  }
}
