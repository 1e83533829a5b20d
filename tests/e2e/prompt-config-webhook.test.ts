/**
 * /prompt-config webhook end to end: the real bot process against the
 * Discord and GitHub emulators. An admin gets the server's own payload URL
 * and a secret shown once; GitHub's deliveries signed with it are taken,
 * a rotated or removed secret stops working at once, and the secret never
 * reaches a log line or any message but the one ephemeral reply.
 */
import { Webhooks } from '@octokit/webhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiMessage } from '../emulators/discord/server.ts';
import { promptRepoFiles } from '../prompts/engine-helpers.ts';
import { pushPayload } from '../webhooks/helpers.ts';
import { EPHEMERAL, messageText as text, WAIT_MS } from '../helpers/discord-messages.ts';
import { startE2E, type E2E } from './harness.ts';

const PUBLIC_URL = 'https://recap.example.com';
const REPO = 'acme/hooked';

let e2e: E2E;
let adminId: string;
let httpUrl: string;

/** The payload URL's id and the secret, as an admin copies them from the reply. */
function copied(message: ApiMessage): { hookId: string; secret: string | undefined } {
  const description = message.embeds[0]?.description ?? '';
  const hookId = new RegExp(`${PUBLIC_URL.replace(/\./g, '\\.')}/webhooks/github/([A-Za-z0-9_-]{22})`).exec(description)?.[1];
  if (hookId === undefined) throw new Error(`no payload URL in ${text(message)}`);
  return { hookId, secret: /Secret: `([0-9a-f]{64})`/.exec(description)?.[1] };
}

async function deliver(hookId: string, secret: string, after: string): Promise<number> {
  const body = JSON.stringify(pushPayload(REPO, { after }));
  const res = await fetch(`${httpUrl}/webhooks/github/${hookId}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': crypto.randomUUID(),
      'x-hub-signature-256': await new Webhooks({ secret }).sign(body),
    },
    body,
  });
  await res.text();
  return res.status;
}

describe('/prompt-config webhook end to end', () => {
  let first: { hookId: string; secret: string };
  let firstInteraction: string;

  beforeAll(async () => {
    e2e = await startE2E({ env: { PUBLIC_URL } });
    adminId = e2e.world.admin.id;
    httpUrl = await e2e.bot.ready();
    e2e.github.createRepo(REPO, { files: promptRepoFiles('W0') });
  }, 90_000);

  afterAll(async () => {
    await e2e?.close();
  });

  it('needs Manage Server and a configured repository', async () => {
    const refused = await e2e.command(e2e.world.member.id, 'prompt-config', { subcommand: 'webhook' }).waitForFinal(() => true, WAIT_MS);
    expect(refused.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(refused.content).toMatch(/Manage Server/);
    const { reply } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'webhook' }, WAIT_MS);
    expect(reply.content).toMatch(/Set a prompt repository first/);
    const { reply: saved } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'set', options: { repo_url: REPO } }, WAIT_MS);
    expect(saved.embeds[0]?.title).toBe(`Saved ${REPO}@main`);
  });

  it('shows the payload URL and a new secret once, privately; a push signed with it is taken', async () => {
    const { handle, reply } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'webhook' }, WAIT_MS);
    expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
    const got = copied(reply);
    expect(got.secret).toBeDefined();
    first = { hookId: got.hookId, secret: got.secret as string };
    firstInteraction = handle.id;
    expect(reply.embeds[0]?.description).toContain('application/json');
    expect(reply.embeds[0]?.description).toContain('shown only now');

    const head = e2e.github.push(REPO, 'main', promptRepoFiles('W1'));
    expect(await deliver(first.hookId, first.secret, head)).toBe(202);

    // Asked again, it shows the URL, never the secret.
    const { reply: again } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'webhook' }, WAIT_MS);
    expect(copied(again)).toEqual({ hookId: first.hookId, secret: undefined });
    expect(text(again)).not.toContain(first.secret);
    expect(text(again)).toMatch(/rotate:True/);

    const { reply: status } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'status' }, WAIT_MS);
    const webhook = status.embeds.flatMap((e) => e.fields ?? []).find((f) => f.name === 'Webhook')?.value ?? '';
    expect(webhook).toMatch(/secret set .*last delivery/);
    expect(text(status)).not.toContain(first.secret);
  });

  it('rotate replaces the secret: the old one is refused at once, the new one works', async () => {
    const { reply } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'webhook', options: { rotate: true } }, WAIT_MS);
    expect(reply.embeds[0]?.title).toMatch(/old one no longer works/);
    const rotated = copied(reply);
    expect(rotated.hookId).toBe(first.hookId);
    expect(rotated.secret).toBeDefined();
    expect(rotated.secret).not.toBe(first.secret);

    const head = e2e.github.push(REPO, 'main', promptRepoFiles('W2'));
    expect(await deliver(first.hookId, first.secret, head)).toBe(401);
    expect(await deliver(first.hookId, rotated.secret as string, head)).toBe(202);

    // remove takes the webhook with the config: its URL answers like an unknown one.
    const { handle, reply: confirm } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'remove' }, WAIT_MS);
    const remove = e2e.buttonsOf(confirm).find((b) => b.label === 'Remove');
    if (remove === undefined) throw new Error(`no Remove button on ${text(confirm)}`);
    await e2e.click(adminId, handle, remove.customId).waitForFinal(() => true, WAIT_MS);
    expect(await deliver(first.hookId, rotated.secret as string, e2e.github.push(REPO, 'main', promptRepoFiles('W3')))).toBe(401);

    await e2e.bot.stop();
    for (const secret of [first.secret, rotated.secret as string]) {
      const leaks = e2e.leaksOf(secret);
      // Only the one ephemeral reply that showed it (and the bot's request that sent it): no log line, no other message.
      expect(leaks.filter((l) => l.startsWith('process') || l.startsWith('file'))).toEqual([]);
      expect(leaks.filter((l) => l.startsWith('answer to interaction'))).toHaveLength(1);
      const messages = e2e.discord.botMessages.filter((m) => JSON.stringify(m).includes(secret));
      expect(messages).toHaveLength(1);
      expect((messages[0]?.flags ?? 0) & EPHEMERAL).toBe(EPHEMERAL);
    }
    expect(e2e.leaksOf(first.secret)).toContain(`answer to interaction ${firstInteraction} (command)`);
    const db = await e2e.database.open();
    const audit = await db.selectFrom('audit_log').select('action').where('guild_id', '=', e2e.world.guild.id).orderBy('created_at').execute();
    expect(audit.map((a) => a.action)).toEqual(['prompt-config.set', 'prompt-config.webhook.create', 'prompt-config.webhook.rotate', 'prompt-config.remove']);
    expect(await db.selectFrom('secrets').select('purpose').where('guild_id', '=', e2e.world.guild.id).execute()).toEqual([]);
  });
});
