import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

/**
 * Writes exports in DiscordChatExporter's JSON layout (field names and order
 * as its JsonMessageWriter writes them) for tests that need many messages.
 */

export interface BuiltUser {
  id: string;
  name: string;
  nickname?: string | null;
  isBot?: boolean;
}

export interface BuiltMessage {
  id: string;
  timestamp: string;
  content: string;
  author: BuiltUser;
  type?: string;
  reactors?: number;
}

export function dceUser(user: BuiltUser): Record<string, unknown> {
  return {
    id: user.id,
    name: user.name,
    discriminator: '0000',
    nickname: user.nickname === undefined ? user.name : user.nickname,
    color: '#1ABC9C',
    isBot: user.isBot ?? false,
    roles: [{ id: '900000000000000001', name: 'Contributors', color: '#1ABC9C', position: 3 }],
    avatarUrl: `https://cdn.discordapp.com/avatars/${user.id}/0123456789abcdef0123456789abcdef.png?size=512`,
  };
}

export function dceMessage(m: BuiltMessage): Record<string, unknown> {
  const reactors = Array.from({ length: m.reactors ?? 0 }, (_, i) => {
    const { roles: _roles, ...user } = dceUser({ id: String(800000000000000000n + BigInt(i)), name: `reactor${i}` });
    return user;
  });
  return {
    id: m.id,
    type: m.type ?? 'Default',
    timestamp: m.timestamp,
    timestampEdited: null,
    callEndedTimestamp: null,
    isPinned: false,
    content: m.content,
    author: dceUser(m.author),
    attachments: [],
    embeds: [],
    stickers: [],
    reactions: reactors.length
      ? [{ emoji: { id: '', name: '👍', code: 'thumbsup', isAnimated: false, imageUrl: 'https://cdn.jsdelivr.net/gh/twitter/twemoji@latest/assets/svg/1f44d.svg' }, count: reactors.length, users: reactors }]
      : [],
    mentions: [],
    inlineEmojis: [],
  };
}

export const HEADER = {
  guild: { id: '700000000000000001', name: 'Test Guild', iconUrl: 'https://cdn.discordapp.com/embed/avatars/0.png' },
  channel: { id: '700000000000000002', type: 'GuildTextChat', categoryId: '700000000000000003', category: 'Engineering', name: 'dev-chat', topic: null },
  dateRange: { after: null, before: null },
  exportedAt: '2024-03-02T00:00:00+00:00',
};

/** The whole export as one object, for small fixtures. */
export function dceExport(messages: Array<Record<string, unknown>>, header: Record<string, unknown> = HEADER): Record<string, unknown> {
  return { ...header, messages, messageCount: messages.length };
}

/**
 * Streams a large export to disk, message by message, the way
 * DiscordChatExporter writes it (indented), without building it in memory.
 */
export async function writeLargeExport(path: string, count: number, make: (index: number) => BuiltMessage): Promise<void> {
  const out = createWriteStream(path);
  const write = async (text: string): Promise<void> => {
    if (!out.write(text)) await once(out, 'drain');
  };
  const head = JSON.stringify(HEADER, null, 2);
  await write(`${head.slice(0, -2)},\n  "messages": [\n`);
  for (let i = 0; i < count; i++) {
    const body = JSON.stringify(dceMessage(make(i)), null, 2).replace(/\n/g, '\n    ');
    await write(`    ${body}${i < count - 1 ? ',' : ''}\n`);
  }
  await write(`  ],\n  "messageCount": ${count}\n}\n`);
  out.end();
  await once(out, 'finish');
}
