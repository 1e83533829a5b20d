import { ChannelType } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { promptConfigDefinition } from '../../src/discord/commands/prompt-config.ts';
import { summarizeDefinition } from '../../src/discord/commands/summarize.ts';

interface OptionJson {
  name: string;
  type: number;
  channel_types?: number[];
  options?: OptionJson[];
}

function channelTypes(options: OptionJson[] | undefined, path: string[]): number[] | undefined {
  const [head, ...rest] = path;
  const option = options?.find((o) => o.name === head);
  return rest.length === 0 ? option?.channel_types : channelTypes(option?.options, rest);
}

describe('the channels a command offers to summarize', () => {
  it('/prompt-config test offers exactly the channels /summarize does, so it can show what /summarize would use', () => {
    const summarize = channelTypes(summarizeDefinition().toJSON().options as OptionJson[], ['channel']);
    const test = channelTypes(promptConfigDefinition().toJSON().options as OptionJson[], ['test', 'channel']);
    expect(summarize).toBeDefined();
    expect(test).toEqual(summarize);
    // A forum holds posts, not messages: both pick a post instead.
    expect(summarize).not.toContain(ChannelType.GuildForum);
    expect(summarize).toContain(ChannelType.PrivateThread);
  });
});
