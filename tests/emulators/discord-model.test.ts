import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/resilience/clock.ts';
import { CommandRegistry } from './discord/commands.ts';
import { DiscordApiFailure } from './discord/errors.ts';
import { validateMessagePayload } from './discord/message-limits.ts';
import { ALL_PERMISSIONS, Permission } from './discord/permissions.ts';
import { SnowflakeFactory, shardOfGuild, snowflakeTime } from './discord/snowflake.ts';
import { DiscordState } from './discord/state.ts';

const NOW = Date.UTC(2025, 0, 15, 12);

function world() {
  const state = new DiscordState(new SnowflakeFactory(), new ManualClock(NOW), { username: 'bot' });
  const guild = state.addGuild({ name: 'g', everyonePermissions: ['ViewChannel', 'SendMessages'] });
  const user = state.addUser({ username: 'u' });
  return { state, guild, user };
}

function failureOf(fn: () => void): DiscordApiFailure {
  try {
    fn();
  } catch (error) {
    if (error instanceof DiscordApiFailure) return error;
    throw error;
  }
  throw new Error('expected a DiscordApiFailure');
}

describe('permissions', () => {
  it('gives owners and administrators everything, overwrites notwithstanding', () => {
    const { state, guild, user } = world();
    const admin = state.addRole(guild.id, { name: 'admin', permissions: ['Administrator'] });
    state.addMember(guild.id, user.id, { roles: [admin.id] });
    const channel = state.addChannel(guild.id, { kind: 'text', name: 'c', overwrites: [{ id: user.id, type: 'member', deny: ['ViewChannel'] }] });
    expect(state.permissionsIn(channel.id, user.id)).toBe(ALL_PERMISSIONS);
    expect(state.permissionsIn(channel.id, guild.ownerId)).toBe(ALL_PERMISSIONS);
  });

  it('applies @everyone, then all role overwrites (allows after denies), then the member overwrite', () => {
    const { state, guild, user } = world();
    const a = state.addRole(guild.id, { name: 'a' });
    const b = state.addRole(guild.id, { name: 'b' });
    state.addMember(guild.id, user.id, { roles: [a.id, b.id] });
    const channel = state.addChannel(guild.id, {
      kind: 'text',
      name: 'c',
      overwrites: [
        { id: guild.id, type: 'role', deny: ['ViewChannel', 'SendMessages'] },
        { id: a.id, type: 'role', deny: ['ViewChannel'] },
        { id: b.id, type: 'role', allow: ['ViewChannel', 'AttachFiles'] },
        { id: user.id, type: 'member', deny: ['AttachFiles'] },
      ],
    });
    const bits = state.permissionsIn(channel.id, user.id);
    expect(bits & Permission.ViewChannel).toBe(Permission.ViewChannel);
    expect(bits & Permission.SendMessages).toBe(0n);
    expect(bits & Permission.AttachFiles).toBe(0n);
  });

  it('gives threads their parent channel’s permissions and synced channels their category’s', () => {
    const { state, guild, user } = world();
    state.addMember(guild.id, user.id);
    const category = state.addChannel(guild.id, { kind: 'category', name: 'k', overwrites: [{ id: user.id, type: 'member', deny: ['SendMessages'] }] });
    const text = state.addChannel(guild.id, { kind: 'text', name: 't', parentId: category.id });
    const thread = state.addChannel(guild.id, { kind: 'thread', name: 'th', parentId: text.id });
    expect(state.permissionsIn(text.id, user.id) & Permission.SendMessages).toBe(0n);
    expect(state.permissionsIn(thread.id, user.id)).toBe(state.permissionsIn(text.id, user.id));
    expect(() => state.addChannel(guild.id, { kind: 'forum-post', name: 'x', parentId: text.id })).toThrow(/cannot be under/);
  });
});

describe('message limits', () => {
  it('reports each violated limit at its field path', () => {
    const failure = failureOf(() =>
      validateMessagePayload(
        { content: 'ok', embeds: [{ title: 't'.repeat(257), fields: [{ name: 'n', value: 'v'.repeat(1025) }] }] },
        { creating: true, fileCount: 0 },
      ),
    );
    expect(failure.status).toBe(400);
    expect(failure.body).toMatchObject({
      code: 50035,
      errors: {
        embeds: {
          0: {
            title: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH' }] },
            fields: { 0: { value: { _errors: [{ message: 'Must be 1024 or fewer in length.' }] } } },
          },
        },
      },
    });
  });

  it('limits a message to 10 embeds and rejects empty new messages, but not bare edits', () => {
    const eleven = Array.from({ length: 11 }, () => ({ description: 'd' }));
    expect(failureOf(() => validateMessagePayload({ embeds: eleven }, { creating: true, fileCount: 0 })).body).toMatchObject({
      errors: { embeds: { _errors: [{ message: 'Must be 10 or fewer in length.' }] } },
    });
    expect(failureOf(() => validateMessagePayload({ content: '' }, { creating: true, fileCount: 0 })).body).toEqual({
      message: 'Cannot send an empty message',
      code: 50006,
    });
    expect(() => validateMessagePayload({ content: '' }, { creating: true, fileCount: 1 })).not.toThrow();
    expect(() => validateMessagePayload({ flags: 4 }, { creating: false, fileCount: 0 })).not.toThrow();
  });
});

describe('snowflakes', () => {
  it('encodes the creation time and picks ids for a requested shard', () => {
    const ids = new SnowflakeFactory();
    const a = ids.next(NOW);
    const b = ids.next(NOW);
    expect(snowflakeTime(a)).toBe(NOW);
    expect(BigInt(b)).toBeGreaterThan(BigInt(a));
    for (const shard of [0, 1, 2]) expect(shardOfGuild(ids.nextForShard(NOW, shard, 3), 3)).toBe(shard);
  });
});

describe('application commands', () => {
  it('keeps ids across bulk overwrites and rejects invalid names', () => {
    let n = 0;
    const registry = new CommandRegistry('app', () => String(++n), () => NOW);
    const [first] = registry.overwrite(null, [{ name: 'recap', description: 'Summarize' }]);
    const [again] = registry.overwrite(null, [{ name: 'recap', description: 'Summarize more' }]);
    expect(again?.['id']).toBe(first?.['id']);
    expect(registry.find('recap', 'some-guild')?.['description']).toBe('Summarize more');
    expect(failureOf(() => registry.overwrite(null, [{ name: 'Recap', description: 'x' }])).body).toMatchObject({
      errors: { 0: { name: { _errors: [{ code: 'APPLICATION_COMMAND_INVALID_NAME' }] } } },
    });
    expect(registry.writes.map((w) => w.names)).toEqual([['recap'], ['recap']]);
  });
});
