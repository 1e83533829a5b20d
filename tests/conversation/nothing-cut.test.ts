import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { importDiscordChatExporter } from '../../src/conversation/dce-importer.ts';
import { formatForModel } from '../../src/conversation/format-for-model.ts';
import { prepareConversation } from '../../src/conversation/prepare.ts';
import { dceExport, dceMessage } from './export-builder.ts';

const alice = { id: '100000000000000001', name: 'alice', nickname: 'Alice' };
const bob = { id: '100000000000000002', name: 'bob', nickname: 'Bob' };
const releaseBot = { id: '100000000000000009', name: 'Release Bot', isBot: true };

async function imported(messages: Array<Record<string, unknown>>) {
  return importDiscordChatExporter(Readable.from([JSON.stringify(dceExport(messages))]));
}

/** The message lines of a transcript, without the delimiters and header. */
function transcript(conversation: Parameters<typeof prepareConversation>[0], includeBots = false): string[] {
  return formatForModel(prepareConversation(conversation, { includeBots }), { header: false }).split('\n').slice(1, -1);
}

describe('replies as DiscordChatExporter writes them', () => {
  it('links a Default message with a reference to the message it answers', async () => {
    const question = dceMessage({ id: '1210000000000000001', timestamp: '2024-03-01T10:00:00+00:00', content: 'ship on Friday?', author: alice });
    const answer = {
      ...dceMessage({ id: '1210000000000000002', timestamp: '2024-03-01T10:01:00+00:00', content: 'yes', author: bob }),
      reference: { messageId: '1210000000000000001', channelId: '700000000000000002', guildId: '700000000000000001' },
    };
    const { conversation } = await imported([question, answer]);
    expect(conversation.messages[1]!.replyTo).toBe('1210000000000000001');
    expect(transcript(conversation)[1]).toBe('[2] 2024-03-01 10:01 UTC Bob (replying to [1]): yes');
  });

  it('still does not take a forward, or a reference to another channel, for a reply', async () => {
    const forward = {
      ...dceMessage({ id: '1210000000000000003', timestamp: '2024-03-01T10:02:00+00:00', content: '', author: bob }),
      reference: { messageId: '1210000000000000001', channelId: '700000000000000002', guildId: '700000000000000001', type: 'Forward' },
    };
    const crosspost = {
      ...dceMessage({ id: '1210000000000000004', timestamp: '2024-03-01T10:03:00+00:00', content: 'news', author: bob }),
      reference: { messageId: '1210000000000000009', channelId: '700000000000000099', guildId: '700000000000000098' },
    };
    const { conversation } = await imported([forward, crosspost]);
    expect(conversation.messages.map((m) => m.replyTo)).toEqual([undefined, undefined]);
  });
});

describe('embeds keep their content', () => {
  it('shows an embed title with its description and fields', async () => {
    const message = {
      ...dceMessage({ id: '1210000000000000005', timestamp: '2024-03-01T10:05:00+00:00', content: '', author: releaseBot }),
      embeds: [
        {
          title: 'Deploy failed',
          url: 'https://ci.example.org/runs/42',
          timestamp: null,
          description: 'Job **migrate** exited with code 1',
          color: '#E74C3C',
          thumbnail: null,
          images: [],
          fields: [
            { name: 'Branch', value: 'release/2.4', isInline: true },
            { name: 'Error', value: 'relation "users" already exists', isInline: false },
          ],
          footer: null,
        },
      ],
    };
    const { conversation } = await imported([message]);
    expect(conversation.messages[0]!.embeds).toEqual([
      {
        title: 'Deploy failed',
        description: 'Job **migrate** exited with code 1',
        url: 'https://ci.example.org/runs/42',
        fields: [
          { name: 'Branch', value: 'release/2.4' },
          { name: 'Error', value: 'relation "users" already exists' },
        ],
      },
    ]);
    const [line] = transcript(conversation, true);
    expect(line).toContain('Deploy failed');
    expect(line).toContain('Job **migrate** exited with code 1');
    expect(line).toContain('Branch: release/2.4');
    expect(line).toContain('Error: relation "users" already exists');
  });

  it('bounds a huge embed and keeps it on one line', () => {
    const prepared = prepareConversation(
      {
        source: { channelId: '2', channelName: 'ci' },
        messages: [
          {
            id: '1',
            author: { id: '9', displayName: 'CI', bot: true },
            timestamp: 0,
            content: '',
            attachments: [],
            embeds: [{ title: 'Log', description: 'line\n'.repeat(2_000), fields: [{ name: 'a', value: 'b' }] }],
            stickers: [],
            reactions: [],
            mentions: [],
          },
        ],
      },
      { includeBots: true },
    );
    const text = prepared.messages[0]!.text;
    expect(text).not.toContain('\n');
    expect(text.length).toBeLessThan(1_200);
    expect(text.startsWith('[embed: Log')).toBe(true);
  });
});
