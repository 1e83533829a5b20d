/**
 * Secrets are typed into private forms, and a bot whose operator set no
 * master key cannot store them: /prompt-config token and /ai-config key-set
 * say so before showing any form, and a form submitted anyway (crafted, or
 * opened before a restart) is refused the same way, naming the setting the
 * operator must add and never the value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/database.ts';
import { createAiConfigCommand } from '../../src/discord/commands/ai-config.ts';
import { createPromptConfigCommand } from '../../src/discord/commands/prompt-config.ts';
import { CallbackType } from '../emulators/discord/interaction-handle.ts';
import type { StoredUser } from '../emulators/discord/server.ts';
import { privateReply } from '../helpers/discord-messages.ts';
import { createPgliteDatabase } from '../helpers/databases.ts';
import { EchoProvider } from '../summaries/support.ts';
import { startInProcessBot, type InProcessBot } from './support.ts';

const TOKEN = `github_pat_${'Q7r'.repeat(12)}`;
const KEY = `sk-ant-locked-${'k'.repeat(20)}`;

let database: DatabaseHandle;
let harness: InProcessBot;
let admin: StoredUser;

beforeAll(async () => {
  database = await createPgliteDatabase();
  harness = await startInProcessBot({
    database,
    provider: new EchoProvider('echo', 'echo-large', 100_000),
    lockedVault: true,
    commands: (defaults) => [...defaults, createPromptConfigCommand(), createAiConfigCommand()],
  });
  admin = harness.discord.addUser({ username: 'root' });
  harness.discord.addMember(harness.world.guild.id, admin.id, { permissions: ['ManageGuild'] });
});

afterAll(async () => {
  await harness?.close();
  await database?.close();
});

function command(name: string, subcommand: string, options?: Record<string, string>) {
  return harness.discord.sendInteraction({
    type: 'command',
    name,
    subcommand,
    userId: admin.id,
    channelId: harness.world.general.id,
    ...(options === undefined ? {} : { options }),
  });
}

function submit(customId: string, fields: Record<string, string>) {
  return harness.discord.sendInteraction({ type: 'modal-submit', userId: admin.id, channelId: harness.world.general.id, customId, fields });
}

describe('secret forms on a bot without a master key', () => {
  it.each([
    { what: '/prompt-config token', send: () => command('prompt-config', 'token'), says: /so a token cannot be saved\. The bot operator must set RECAP_MASTER_KEYS/ },
    // Refused before the provider is even looked at.
    { what: '/ai-config key-set', send: () => command('ai-config', 'key-set', { provider: 'no-such-provider' }), says: /so an API key cannot be saved\. The bot operator must set RECAP_MASTER_KEYS/ },
  ])('$what refuses before showing a form', async ({ send, says }) => {
    const handle = send();
    await privateReply(handle, says);
    expect(handle.callback?.type).not.toBe(CallbackType.Modal);
  });

  it('refuses a submitted token form without storing or repeating the token', async () => {
    const reply = await privateReply(submit('prompt-config:token', { token: TOKEN }), /so a token cannot be saved/);
    expect(reply.content).not.toContain(TOKEN);
    const rows = await database.db.selectFrom('secrets').selectAll().execute();
    expect(rows).toEqual([]);
  });

  it('explains a key form the key store refuses (a provider not enabled here), without repeating the key', async () => {
    const reply = await privateReply(submit('ai-config:key:anthropic', { key: KEY }), /^Unknown provider "anthropic" \(enabled providers: local\)\. Nothing was saved\./);
    expect(reply.content).not.toContain(KEY);
  });
});
