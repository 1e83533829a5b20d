/**
 * Discord ids ("snowflakes") are 64-bit integers written as decimal strings.
 * They sort by creation time, but only numerically: "99" < "100" as ids.
 */

const SNOWFLAKE = /^\d{1,20}$/;
const MAX_SNOWFLAKE = (1n << 64n) - 1n;

export function isSnowflake(value: string): boolean {
  return SNOWFLAKE.test(value) && BigInt(value) <= MAX_SNOWFLAKE;
}

/** Numeric order for snowflakes; anything else sorts after them, by plain string order. */
export function compareSnowflakes(a: string, b: string): number {
  const aOk = SNOWFLAKE.test(a);
  const bOk = SNOWFLAKE.test(b);
  if (aOk && bOk) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (aOk !== bOk) return aOk ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The link Discord clients open at a message. Direct messages have no guild:
 * Discord uses `@me` in its place. Returns undefined when an id is unusable,
 * so a hostile export cannot smuggle a different URL in.
 */
export function buildJumpUrl(guildId: string | undefined, channelId: string, messageId: string): string | undefined {
  if (!isSnowflake(channelId) || !isSnowflake(messageId)) return undefined;
  const guild = guildId !== undefined && isSnowflake(guildId) && guildId !== '0' ? guildId : '@me';
  return `https://discord.com/channels/${guild}/${channelId}/${messageId}`;
}
