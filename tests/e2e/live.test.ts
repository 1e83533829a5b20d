/**
 * Push-to-live across processes, end to end: two real bot processes on one
 * real Postgres, with the Discord, GitHub and Anthropic emulators.
 *
 * - B (the harness's bot) is the only one connected to Discord: it answers
 *   /summarize and /prompt-config.
 * - A has no Discord token: it takes GitHub's signed webhooks on its HTTP
 *   port. It fetches the pushed commit, stores it, and tells B over
 *   Postgres LISTEN/NOTIFY.
 *
 * What B serves is read from its answers only: the Anthropic emulator echoes
 * the marker of the guild prompt it was given, and the summary's footer
 * names the prompt's repository, commit and path.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Database } from '../../src/db/schema.ts';
import { modelAnswer } from '../discord/responders.ts';
import { summaryOf, WAIT_MS } from '../helpers/discord-messages.ts';
import { pingPayload, postWebhook, pushPayload, sign, WEBHOOK_SECRET } from '../webhooks/helpers.ts';
import type { BotProcess, E2E } from './harness.ts';
import { startE2EWithAnthropic, type AnthropicE2E } from './with-anthropic.ts';

const LIVE_WITHIN_MS = 5_000;
const API_KEY = `sk-ant-e2e-${'L'.repeat(24)}`;
const REPO = 'acme/prompts';

const postgresUrl = inject('postgresUrl');

/** The guild prompt of version `version`: its marker is what the model emulator echoes. */
const promptFiles = (version: string): Record<string, string> => ({
  PATH: 'prompts/{category}.md\nprompts/default.md\n',
  'prompts/default.md': `Summarize #{channel} as bullet points. Version marker: LIVE-MARK-${version}.\n{messages}\n`,
});

/** Answers like a model would, prefixed with the marker of the prompt it was given. */
const echoMarker = (call: Parameters<typeof modelAnswer>[0]): string => `${/LIVE-MARK-\w+/.exec(call.system)?.[0] ?? 'NO-MARK'} ${modelAnswer(call)}`;

interface Served {
  marker: string;
  /** `owner/repo@1a2b3c4:path` from the footer. */
  source: string;
}

describe.skipIf(postgresUrl === '')(`push-to-live across two processes${postgresUrl === '' ? ` [skipped: no Postgres, ${inject('postgresSkipReason')}]` : ''}`, () => {
  let started: AnthropicE2E;
  let e2e: E2E;
  /** Serves the webhooks; never connected to Discord. */
  let a: BotProcess;
  let webhookBase: string;
  let db: Kysely<Database>;
  let head: string;

  beforeAll(async () => {
    started = await startE2EWithAnthropic({
      keys: { operator: API_KEY },
      responder: echoMarker,
      env: { LLM_GUILD_RATE_PER_MIN: '0', GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET },
    });
    ({ e2e } = started);
    a = e2e.spawnBot({ DISCORD_TOKEN: '' });
    webhookBase = await a.ready();
    db = await e2e.database.open();

    head = e2e.github.createRepo(REPO, { files: promptFiles('v1') })!;
    const { world } = e2e;
    e2e.discord.seedMessages(world.general.id, [
      { authorId: world.member.id, content: 'Is the release ready?' },
      { authorId: world.admin.id, content: 'Tests are green.' },
      { authorId: world.member.id, content: 'Shipping Friday.' },
    ]);
    // Configured through B, as an admin does.
    const { reply } = await e2e.runCommand(world.admin.id, 'prompt-config', { subcommand: 'set', options: { repo_url: REPO } }, WAIT_MS);
    expect(reply.embeds[0]?.title).toBe(`Saved ${REPO}@main`);
  }, 90_000);

  afterAll(async () => {
    await started?.close();
  });

  /** A private /summarize of #general handled by B (the only Discord client), read from its answer. */
  async function servedByB(): Promise<Served> {
    const handle = e2e.command(e2e.world.member.id, 'summarize', { options: { private: true } });
    const messages = await summaryOf(handle);
    const footer = messages.flatMap((m) => m.embeds).find((e) => e.footer)?.footer?.text ?? '';
    const text = messages.flatMap((m) => m.embeds.map((e) => e.description ?? '')).join('\n');
    return { marker: /LIVE-MARK-\w+/.exec(text)?.[0] ?? 'NO-MARK', source: /^Prompt (\S+)/.exec(footer)?.[1] ?? footer };
  }

  /** Asks B until it serves `marker`; the time from `since` until it did. */
  async function pollUntilServed(marker: string, since: number, deadlineMs = LIVE_WITHIN_MS + 5_000): Promise<{ ms: number; served: Served }> {
    for (;;) {
      const polled = performance.now();
      const served = await servedByB();
      if (served.marker === marker) return { ms: performance.now() - since, served };
      if (performance.now() - since > deadlineMs) throw new Error(`B still serves ${served.marker} (${served.source}) ${deadlineMs} ms after the push`);
      // A /summarize is a few REST calls of B; discord.js holds a bot to 50 a second.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, polled + 100 - performance.now())));
    }
  }

  const source = (commit: string) => `${REPO}@${commit.slice(0, 7)}:prompts/default.md`;

  async function deliveryRow(id: string) {
    return db.selectFrom('webhook_deliveries').selectAll().where('delivery_id', '=', id).executeTakeFirst();
  }

  it('B serves the configured prompt', async () => {
    expect(await servedByB()).toEqual({ marker: 'LIVE-MARK-v1', source: source(head) });
  });

  it('a webhook with a wrong signature changes nothing', async () => {
    const pushed = e2e.github.push(REPO, 'main', promptFiles('v2'));
    const body = JSON.stringify(pushPayload(REPO, { after: pushed }));
    const forged = await postWebhook(webhookBase, { event: 'push', body, signature: await sign(body, 'not-the-webhook-secret') });
    expect(forged.status).toBe(401);
    expect(await deliveryRow(forged.delivery)).toBeUndefined();
    const unsigned = await postWebhook(webhookBase, { event: 'push', body, signature: null });
    expect(unsigned.status).toBe(401);
    expect(await servedByB()).toEqual({ marker: 'LIVE-MARK-v1', source: source(head) });
  });

  it('a signed push delivered to A is served by B within 5 s', async () => {
    const pushed = e2e.github.head(REPO, 'main'); // v2, pushed above and not yet delivered
    const started = performance.now();
    const delivered = await postWebhook(webhookBase, { event: 'push', body: pushPayload(REPO, { after: pushed }) });
    expect(delivered.status).toBe(202);
    expect(delivered.body).toMatchObject({ status: 'queued' });
    const { ms, served } = await pollUntilServed('LIVE-MARK-v2', started);
    expect(served.source).toBe(source(pushed));
    expect(ms).toBeLessThan(LIVE_WITHIN_MS);
    head = pushed;
    const row = await deliveryRow(delivered.delivery);
    expect(row?.status).toBe('done');
    expect(row?.result).toContain(`push to ${REPO}@main for 1 guild(s)`);
  });

  it('a replayed delivery is answered `duplicate` and ignored', async () => {
    const body = JSON.stringify(pushPayload(REPO, { after: head }));
    const delivery = randomUUID();
    const first = await postWebhook(webhookBase, { event: 'push', delivery, body });
    expect(first.status).toBe(202);
    await waitFor(async () => (await deliveryRow(delivery))?.status === 'done', WAIT_MS, 'the first delivery to be processed');
    // A commit pushed without a webhook: had the replay been processed, its refresh would find it.
    const unannounced = e2e.github.push(REPO, 'main', promptFiles('v3'));
    const replay = await postWebhook(webhookBase, { event: 'push', delivery, body });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({ status: 'duplicate', delivery });
    // Longer than a push took to go live above.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await servedByB()).toEqual({ marker: 'LIVE-MARK-v2', source: source(head) });
    const row = await deliveryRow(delivery);
    expect(row?.attempts).toBe(1);
    expect(unannounced).not.toBe(head);
  });

  it('a burst of 50 deliveries a second for 30 s: each acknowledged within 1 s, none lost', async () => {
    const total = 1_500;
    const intervalMs = 20;
    const ping = pingPayload();
    const deliveries: Array<Promise<{ id: string; kind: string; status: number; ms: number }>> = [];
    const ids: string[] = [];
    let lastPushed = '';
    const started = performance.now();
    for (let i = 0; i < total; i++) {
      const due = started + i * intervalMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const id = randomUUID();
      ids.push(id);
      let kind: string;
      let event: string;
      let body: unknown;
      if (i % 250 === 125) {
        // A few real pushes to the configured repository.
        lastPushed = e2e.github.push(REPO, 'main', promptFiles(`burst${i}`));
        kind = 'configured-push';
        event = 'push';
        body = pushPayload(REPO, { after: lastPushed });
      } else if (i % 2 === 0) {
        kind = 'ping';
        event = 'ping';
        body = ping;
      } else {
        kind = 'unconfigured-push';
        event = 'push';
        body = pushPayload(`someone/repo-${i % 37}`, { after: randomUUID().replace(/-/g, '').padEnd(40, '0') });
      }
      const sent = performance.now();
      deliveries.push(postWebhook(webhookBase, { event, delivery: id, body }).then((r) => ({ id, kind, status: r.status, ms: performance.now() - sent })));
    }
    const results = await Promise.all(deliveries);
    const expectedStatus: Record<string, number> = { ping: 200, 'unconfigured-push': 200, 'configured-push': 202 };
    const wrong = results.filter((r) => r.status !== expectedStatus[r.kind]);
    expect(wrong).toEqual([]);
    const slowest = Math.max(...results.map((r) => r.ms));
    expect(slowest, `slowest acknowledgement ${Math.round(slowest)} ms`).toBeLessThan(1_000);
    expect(results.filter((r) => r.kind === 'configured-push')).toHaveLength(6);

    // Nothing lost: a row for every delivery, and the queue empties.
    await waitFor(
      async () => {
        const rows = await db.selectFrom('webhook_deliveries').select(['status']).where('delivery_id', 'in', ids).execute();
        return rows.length === total && rows.every((r) => r.status === 'done');
      },
      WAIT_MS,
      'every burst delivery to be recorded and done',
    );
    // And the last push went live on B.
    const marker = `LIVE-MARK-burst${1375}`;
    const { served } = await pollUntilServed(marker, performance.now());
    expect(served.source).toBe(source(lastPushed));
  }, 80_000);

  it('leaves nothing unanswered and leaks no secret', () => {
    expect(e2e.unanswered()).toEqual([]);
    expect(e2e.leaksOf(API_KEY)).toEqual([]);
    expect(e2e.leaksOf(WEBHOOK_SECRET)).toEqual([]);
    expect([...e2e.bot.linesAtLeast(50), ...a.linesAtLeast(50)].map((l) => l.raw)).toEqual([]);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
