/**
 * The dashboard in a real browser (Chromium through playwright-core) against
 * the real app over HTTP, the Discord emulator's OAuth2 and REST, the GitHub
 * emulator, and each database. Screenshots of every page go to a temporary
 * folder, or to docs/screenshots/ with RECAP_SCREENSHOTS=1
 * (`npm run screenshots`).
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sql } from 'kysely';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../helpers/databases.ts';
import { startDashboardWorld, type DashboardWorld } from './dashboard-world.ts';
import { createDigest } from '../../src/digests/digest-store.ts';
import { seedSummaries, seedUsage } from './seed.ts';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const SHOTS = process.env['RECAP_SCREENSHOTS'] === '1' ? resolve(import.meta.dirname, '../../docs/screenshots') : mkdtempSync(join(tmpdir(), 'recap-shots-'));
mkdirSync(SHOTS, { recursive: true });

let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
});
afterAll(async () => {
  await browser?.close();
});

describeEachDatabase('dashboard in a browser', (database) => {
  let world: DashboardWorld;
  let privateThread: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    world = await startDashboardWorld(database().handle);
    const db = database().handle.db;
    const now = Date.now();
    // A private thread of #general the bot was added to (it summarized it): of the people, only its owner (the admin) may read it.
    privateThread = world.discord.addChannel(world.guild.id, { kind: 'private-thread', name: 'hiring', parentId: world.general.id, ownerId: world.admin.id, members: [world.discord.bot.id] }).id;
    await seedSummaries(db, [
      {
        guildId: world.guild.id,
        channelId: world.general.id,
        text: 'GENERAL-SUMMARY: the release ships Friday [1]. <script>alert(1)</script>',
        createdAt: new Date(now - 3_600_000),
        citations: [{ ref: 1, messageId: '1234', jumpUrl: `https://discord.com/channels/${world.guild.id}/${world.general.id}/1234` }],
      },
      { guildId: world.guild.id, channelId: world.staff.id, text: 'STAFF-SUMMARY: salaries are confidential.', createdAt: new Date(now - 7_200_000) },
      { guildId: world.guild.id, channelId: privateThread, text: 'THREAD-SUMMARY: a private thread.', createdAt: new Date(now - 9_000_000) },
    ]);
    await seedUsage(db, world.guild.id, now, 14, 6);
  });
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await world?.close();
  });

  /** A fresh browser profile logged in through the emulator's OAuth page as `userId`. */
  async function loggedIn(userId: string): Promise<Page> {
    const context = await browser.newContext({ baseURL: world.url, viewport: { width: 1200, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    world.discord.oauth.approveAs(userId);
    await page.goto('/');
    await page.getByRole('link', { name: 'Log in with Discord' }).click();
    await page.waitForURL(`${world.url}/`);
    return page;
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  it('logs in through Discord OAuth2 (code + PKCE + state) and lists the servers with the bot', async () => {
    const page = await loggedIn(world.admin.id);
    await expect(page.getByRole('heading', { name: 'Your servers' }).count()).resolves.toBe(1);
    await expect(page.getByRole('link', { name: 'Acme Guild' }).count()).resolves.toBe(1);
    await expect(page.getByText('Logged in as Ada Admin').count()).resolves.toBe(1);
    // The token exchange authenticated the client and carried the PKCE verifier the emulator checked.
    expect(world.discord.oauth.log.filter((r) => r.path.endsWith('/oauth2/token'))).toEqual([{ path: '/api/oauth2/token', status: 200, clientAuth: 'basic' }]);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'recap_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    expect(cookies.find((c) => c.name === 'recap_login')).toBeUndefined();
    await shot(page, 'guilds');
  });

  it('works from the keyboard: Tab reaches the login link, Enter logs in, labelled controls on the tester', async () => {
    const context = await browser.newContext({ baseURL: world.url });
    contexts.push(context);
    const page = await context.newPage();
    world.discord.oauth.approveAs(world.admin.id);
    await page.goto('/');
    const focused: string[] = [];
    for (let i = 0; i < 5 && focused.at(-1) !== 'Log in with Discord'; i++) {
      await page.keyboard.press('Tab');
      focused.push(((await page.locator(':focus').textContent()) ?? '').trim());
    }
    expect(focused[0]).toBe('Skip to content');
    expect(focused.at(-1)).toBe('Log in with Discord');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${world.url}/`);
    await page.goto(`/guilds/${world.guild.id}/test`);
    // Every form control has a label naming it.
    const unlabelled = await page.evaluate<number>(
      "[...document.querySelectorAll('main input:not([type=hidden]), main select')].filter((el) => el.labels.length === 0).length",
    );
    expect(unlabelled).toBe(0);
  });

  it('refuses a callback whose state does not match the one this browser started', async () => {
    const context = await browser.newContext({ baseURL: world.url });
    contexts.push(context);
    const page = await context.newPage();
    const response = await page.goto('/auth/callback?code=abc&state=forged');
    expect(response?.status()).toBe(400);
    await expect(page.getByText('This login link is expired or was not started here').count()).resolves.toBe(1);
  });

  it('overview: live commit, level, and the broken push\'s problem as file:line linked to that line on GitHub', async () => {
    const page = await loggedIn(world.admin.id);
    await page.goto(`/guilds/${world.guild.id}`);
    const link = page.getByRole('link', { name: 'PATH:4' });
    await expect(link.count()).resolves.toBe(1);
    expect(await link.getAttribute('href')).toBe(`https://github.com/acme/prompts/blob/${world.brokenCommit}/PATH#L4`);
    expect(await page.getByTestId('level').textContent()).toMatch(/^cached/);
    await shot(page, 'overview');
    await page.getByRole('button', { name: 'Refresh now' }).click();
    await expect(page.getByText('The repository was read again now').count()).resolves.toBe(1);
  });

  it('resolution tester: the trace shows the level, paths tried, commit and rendered prompt', async () => {
    const page = await loggedIn(world.admin.id);
    await page.goto(`/guilds/${world.guild.id}/test`);
    await page.getByLabel('Channel').selectOption(world.general.id);
    await page.getByLabel('Summary type').fill('detailed');
    await page.getByLabel('Perspective').fill('developer');
    await page.getByRole('button', { name: 'Test' }).click();
    await page.getByTestId('trace').waitFor();
    expect(await page.getByTestId('trace-level').textContent()).toBe('cached');
    expect(await page.getByTestId('trace-path').textContent()).toBe('prompts/discussion/default.md');
    const rendered = await page.getByTestId('rendered').textContent();
    expect(rendered).toContain('GOOD-PROMPT: summarize #general as a detailed summary for developer readers.');
    await expect(page.getByText(/custom: .*PATH:4/).count()).resolves.toBeGreaterThan(0);
    await shot(page, 'tester');
  });

  it('usage: the uPlot chart renders the per-day spend from llm_calls, with the budget line', async () => {
    const page = await loggedIn(world.admin.id);
    // A budget to draw, saved through the keys page's form.
    await page.goto(`/guilds/${world.guild.id}/keys`);
    await page.getByLabel("Daily budget (USD, calls paid with the operator's key)").fill('0.02');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(page.getByText('Budget and provider order saved.').count()).resolves.toBe(1);

    await page.goto(`/guilds/${world.guild.id}/usage`);
    const chart = page.locator('#usage-chart');
    await chart.locator('canvas').waitFor();
    const { rows } = await sql<{ total: string; points: string }>`
      select coalesce(sum(cost), 0) as total, count(*) filter (where cost > 0) as points from (
        select date_trunc('day', created_at at time zone 'UTC') as day, coalesce(provider, 'none') as provider, sum(cost_usd) as cost
        from llm_calls where guild_id = ${world.guild.id} group by 1, 2) per_day`.execute(database().handle.db);
    const expected = rows[0];
    expect(Number(expected?.total)).toBeGreaterThan(0);
    expect(Number(await chart.getAttribute('data-total'))).toBeCloseTo(Number(expected?.total), 6);
    expect(Number(await chart.getAttribute('data-points'))).toBe(Number(expected?.points));
    // anthropic, local and the budget line.
    expect(await chart.getAttribute('data-series')).toBe('3');
    await expect(page.getByRole('cell', { name: 'error:timeout' }).count()).resolves.toBe(1);
    await shot(page, 'usage');
  });

  it('digests: the list with the last runs; pause and resume', async () => {
    const db = database().handle.db;
    const now = new Date();
    const digest = await createDigest(
      db,
      { guildId: world.guild.id, sourceId: world.general.id, sourceKind: 'channel', destinationId: world.general.id, cadence: 'daily', at: '09:00', timezone: 'UTC', skipIfQuiet: false, createdBy: world.admin.id, nextRunAt: new Date(now.getTime() + 3_600_000), windowStart: new Date(now.getTime() - 82_800_000) },
      now,
    );
    await db
      .insertInto('digest_runs')
      .values({ id: `${digest.id}-run1`, digest_id: digest.id, guild_id: world.guild.id, due_at: new Date(now.getTime() - 82_800_000), trigger: 'schedule', window_start: new Date(now.getTime() - 169_200_000), window_end: new Date(now.getTime() - 82_800_000), outcome: 'posted', message_count: 37, message_url: `https://discord.com/channels/${world.guild.id}/${world.general.id}/999`, detail: null, job_id: null, started_at: new Date(now.getTime() - 82_800_000), finished_at: new Date(now.getTime() - 82_790_000) })
      .execute();
    const page = await loggedIn(world.admin.id);
    await page.goto(`/guilds/${world.guild.id}/digests`);
    const section = page.locator(`[data-digest-id="${digest.id}"]`);
    expect(await section.getByTestId('digest-state').textContent()).toMatch(/^active; next run/);
    await expect(section.getByRole('cell', { name: 'posted' }).count()).resolves.toBe(1);
    expect(await section.getByRole('link', { name: 'message' }).getAttribute('href')).toBe(`https://discord.com/channels/${world.guild.id}/${world.general.id}/999`);
    await shot(page, 'digests');
    await section.getByRole('button', { name: `Pause digest ${digest.id}` }).click();
    await expect(page.getByText('Digest paused').count()).resolves.toBe(1);
    expect(await page.locator(`[data-digest-id="${digest.id}"]`).getByTestId('digest-state').textContent()).toMatch(/^paused \(paused by Ada Admin on the dashboard\)/);
    expect((await db.selectFrom('digests').select('paused').where('id', '=', digest.id).executeTakeFirstOrThrow()).paused).toBe(true);
    await page.locator(`[data-digest-id="${digest.id}"]`).getByRole('button', { name: `Resume digest ${digest.id}` }).click();
    await expect(page.getByText('Digest resumed').count()).resolves.toBe(1);
    expect((await db.selectFrom('digests').select('paused').where('id', '=', digest.id).executeTakeFirstOrThrow()).paused).toBe(false);
  });

  it('digests: creating through the form (the rules of /digest create), seeing it listed, pausing it', async () => {
    const db = database().handle.db;
    const page = await loggedIn(world.admin.id);
    await page.goto(`/guilds/${world.guild.id}/digests`);
    await page.getByLabel('Source (channel or category)').selectOption({ label: '#general' });
    await page.getByLabel('Post to').selectOption({ label: '#general' });
    await page.getByLabel('Every').selectOption('weekdays');
    await page.getByLabel('At (24-hour, in that zone)').fill('08:30');
    await page.getByLabel('Time zone').fill('Europe/Berlin');
    await page.getByLabel('Type (optional, e.g. brief)').fill('brief');
    await page.getByLabel('Language').selectOption('de');
    await page.getByLabel('Skip a run when there are no new messages').check();
    await shot(page, 'digests-create');
    await page.getByRole('button', { name: 'Create digest' }).click();
    await expect(page.getByText('Digest created').count()).resolves.toBe(1);

    const row = await db.selectFrom('digests').selectAll().where('guild_id', '=', world.guild.id).where('timezone', '=', 'Europe/Berlin').executeTakeFirstOrThrow();
    expect(row).toMatchObject({ source_id: world.general.id, source_kind: 'channel', destination_id: world.general.id, cadence: 'weekdays', at: '08:30', type: 'brief', language: 'de', skip_if_quiet: true, created_by: world.admin.id, paused: false });
    // 08:30 in Berlin is 06:30 or 07:30 UTC, on a weekday.
    expect([6, 7]).toContain(row.next_run_at.getUTCHours());
    expect([1, 2, 3, 4, 5]).toContain(row.next_run_at.getUTCDay());
    const audit = await db.selectFrom('audit_log').select(['action', 'actor_id', 'details']).where('guild_id', '=', world.guild.id).where('action', '=', 'digest.create').execute();
    expect(audit.map((a) => ({ ...a, details: typeof a.details === 'string' ? JSON.parse(a.details) : a.details }))).toEqual([
      { action: 'digest.create', actor_id: world.admin.id, details: { digest: row.id, source: world.general.id, destination: world.general.id, cadence: 'weekdays', via: 'dashboard' } },
    ]);

    const section = page.locator(`[data-digest-id="${row.id}"]`);
    expect(await section.getByRole('heading').first().textContent()).toContain('#general → #general');
    expect(await section.getByTestId('digest-state').textContent()).toMatch(/^active; next run/);
    await expect(section.getByText('on weekdays at 08:30 (Europe/Berlin)').count()).resolves.toBe(1);
    await section.getByRole('button', { name: `Pause digest ${row.id}` }).click();
    await expect(page.getByText('Digest paused').count()).resolves.toBe(1);
    expect((await db.selectFrom('digests').select('paused').where('id', '=', row.id).executeTakeFirstOrThrow()).paused).toBe(true);

    // A category source: its channels are checked one by one against the destination's audience.
    await page.getByLabel('Source (channel or category)').selectOption({ label: 'Team (category)' });
    await page.getByLabel('Post to').selectOption({ label: '#team-chat' });
    await page.getByRole('button', { name: 'Create digest' }).click();
    await expect(page.getByText('Digest created').count()).resolves.toBe(1);
    const category = await db.selectFrom('digests').selectAll().where('source_id', '=', world.team.id).executeTakeFirstOrThrow();
    expect(category).toMatchObject({ source_kind: 'category', destination_id: world.teamChat.id, cadence: 'daily', at: '09:00', timezone: 'UTC', skip_if_quiet: false });
    await db.deleteFrom('digests').where('id', 'in', [row.id, category.id]).execute();
  });

  it('digests: a refused create says why beside the form, keeps what was typed and stores nothing', async () => {
    const db = database().handle.db;
    const count = async () => Number((await db.selectFrom('digests').select((eb) => eb.fn.countAll<string>().as('n')).where('guild_id', '=', world.guild.id).executeTakeFirstOrThrow()).n);
    const before = await count();
    const page = await loggedIn(world.admin.id);
    await page.goto(`/guilds/${world.guild.id}/digests`);

    // #general is seen by `restricted`, who cannot see #staff: the visibility rule refuses, naming both channels and who.
    await page.getByLabel('Source (channel or category)').selectOption({ label: '#staff' });
    await page.getByLabel('Post to').selectOption({ label: '#general' });
    await page.getByRole('button', { name: 'Create digest' }).click();
    const refusal = page.getByTestId('create-error');
    expect(await refusal.textContent()).toBe("Not created: I won't post a summary of #staff in #general: @restricted can see #general but can't see #staff.");
    expect(await page.getByRole('alert').count()).toBe(1);
    expect(await page.getByLabel('Source (channel or category)').inputValue()).toBe(world.staff.id);
    await shot(page, 'digests-refused');

    // A time zone that is not one: the schedule's reason, and the typed value kept.
    await page.getByLabel('Source (channel or category)').selectOption({ label: '#general' });
    await page.getByLabel('Time zone').fill('Mars/Olympus_Mons');
    await page.getByRole('button', { name: 'Create digest' }).click();
    expect(await refusal.textContent()).toBe('Not created: timezone: "Mars/Olympus_Mons" is not an IANA time zone; pick one from the list, e.g. Europe/Berlin.');
    expect(await page.getByLabel('Time zone').inputValue()).toBe('Mars/Olympus_Mons');

    // A cron schedule closer than an hour.
    await page.getByLabel('Time zone').fill('UTC');
    await page.getByLabel('Every').selectOption('cron');
    await page.getByLabel('Cron expression (for a cron schedule)').fill('*/30 * * * *');
    await page.getByRole('button', { name: 'Create digest' }).click();
    expect(await refusal.textContent()).toBe('Not created: A digest runs at most once an hour; pick a schedule with runs at least an hour apart.');
    expect(await count()).toBe(before);

    // The per-server cap.
    const now = new Date();
    const filler = Array.from({ length: 25 - before }, (_, i) => ({ id: `cap${String(i).padStart(7, '0')}`, guild_id: world.guild.id, source_id: world.general.id, source_kind: 'channel' as const, destination_id: world.general.id, cadence: 'daily' as const, at: '09:00', timezone: 'UTC', skip_if_quiet: false, next_run_at: now, window_start: now, created_by: world.admin.id, created_at: now, updated_at: now }));
    if (filler.length > 0) await db.insertInto('digests').values(filler).execute();
    await page.getByLabel('Every').selectOption('daily');
    await page.getByRole('button', { name: 'Create digest' }).click();
    expect(await refusal.textContent()).toBe('Not created: A server can have at most 25 digests; delete one first (/digest list).');
    expect(await count()).toBe(25);
    if (filler.length > 0) await db.deleteFrom('digests').where('id', 'in', filler.map((f) => f.id)).execute();

    // A hand-made post naming a channel the admin cannot see: refused, and its name is not told.
    const secret = world.discord.addChannel(world.guild.id, { kind: 'text', name: 'board-secret', overwrites: [{ id: world.admin.id, type: 'member', deny: ['ViewChannel'] }] });
    const csrf = await page.locator('form.create input[name="csrf"]').getAttribute('value');
    const crafted = await page.context().request.post(`/guilds/${world.guild.id}/digests`, { form: { csrf: csrf ?? '', action: 'create', source: secret.id, destination: world.general.id, every: 'daily' }, maxRedirects: 0 });
    expect(crafted.status()).toBe(200);
    const body = await crafted.text();
    expect(body).toContain('Not created: You can&#39;t read the history of a channel you cannot see, so I won&#39;t summarize it for you.');
    expect(body).not.toContain('board-secret');
    const noSource = await page.context().request.post(`/guilds/${world.guild.id}/digests`, { form: { csrf: csrf ?? '', action: 'create', destination: world.general.id, every: 'daily' }, maxRedirects: 0 });
    expect(await noSource.text()).toContain('Not created: Pick a source and a destination from the lists.');
    expect(await count()).toBe(before);
  });

  it('digests: a create without the session\'s CSRF token is refused with 403 and stores nothing', async () => {
    const db = database().handle.db;
    const page = await loggedIn(world.admin.id);
    const form = { action: 'create', source: world.general.id, destination: world.general.id, every: 'daily', at: '07:00', timezone: 'Asia/Tokyo' };
    const missing = await page.context().request.post(`/guilds/${world.guild.id}/digests`, { form, maxRedirects: 0 });
    expect(missing.status()).toBe(403);
    expect(await missing.text()).toContain('security token is missing or wrong');
    expect(await db.selectFrom('digests').select('id').where('timezone', '=', 'Asia/Tokyo').execute()).toEqual([]);
  });

  it('keys: a saved key is never sent back to the browser', async () => {
    const page = await loggedIn(world.admin.id);
    await page.goto(`/guilds/${world.guild.id}/keys`);
    const key = `sk-ant-guild-${'Zq9'.repeat(10)}`;
    await page.getByLabel('New key for anthropic').fill(key);
    await page.getByRole('button', { name: 'Save key' }).click();
    await expect(page.getByText('Key saved.').count()).resolves.toBe(1);
    await expect(page.getByText('Key stored, set').count()).resolves.toBe(1);
    expect(await page.getByLabel('New key for anthropic').inputValue()).toBe('');
    expect(await page.content()).not.toContain(key);
    await shot(page, 'keys');
  });

  it('a member without Manage Server is refused from every admin page, and sees summaries only', async () => {
    const page = await loggedIn(world.member.id);
    for (const path of ['', '/test', '/digests', '/usage', '/keys']) {
      const response = await page.goto(`/guilds/${world.guild.id}${path}`);
      expect(response?.status()).toBe(403);
      await expect(page.getByText('This page is for members with the Manage Server permission').count()).resolves.toBe(1);
    }
    const response = await page.goto(`/guilds/${world.guild.id}/summaries`);
    expect(response?.status()).toBe(200);
  });

  it('an admin whose Manage Server was taken away since login is refused now', async () => {
    const page = await loggedIn(world.admin.id);
    const demoted = world.discord.addUser({ username: 'demoted' });
    world.discord.addMember(world.guild.id, demoted.id, { permissions: ['ManageGuild'] });
    const demotedPage = await loggedIn(demoted.id);
    expect((await demotedPage.goto(`/guilds/${world.guild.id}/usage`))?.status()).toBe(200);
    // Roles change in Discord: the session still lists Manage Server, the bot's view does not.
    const member = world.discord.state.member(world.guild.id, demoted.id);
    member?.roleIds.splice(0);
    expect((await demotedPage.goto(`/guilds/${world.guild.id}/usage`))?.status()).toBe(403);
    expect((await page.goto(`/guilds/${world.guild.id}/usage`))?.status()).toBe(200);
  });

  it('history: a summary of a channel the member cannot read is absent; citations are links; text stays text', async () => {
    const page = await loggedIn(world.restricted.id);
    await page.goto(`/guilds/${world.guild.id}/summaries`);
    const html = await page.content();
    expect(html).toContain('GENERAL-SUMMARY');
    expect(html).not.toContain('STAFF-SUMMARY');
    expect(html).not.toContain('THREAD-SUMMARY');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(await page.getByRole('link', { name: '[1]' }).getAttribute('href')).toBe(`https://discord.com/channels/${world.guild.id}/${world.general.id}/1234`);
    // Asking for #staff by its id shows nothing either.
    await page.goto(`/guilds/${world.guild.id}/summaries?channel=${world.staff.id}`);
    expect(await page.content()).not.toContain('STAFF-SUMMARY');

    const admin = await loggedIn(world.admin.id);
    await admin.goto(`/guilds/${world.guild.id}/summaries`);
    expect(await admin.content()).toContain('STAFF-SUMMARY');
    expect(await admin.content()).toContain('THREAD-SUMMARY');
    await shot(admin, 'summaries');
  });

  it('CSRF: a POST without the session\'s token, or with a wrong one, is refused with 403 and changes nothing', async () => {
    const page = await loggedIn(world.admin.id);
    const request = page.context().request;
    const before = world.github.count('commit');
    const missing = await request.post(`/guilds/${world.guild.id}/refresh`, { form: {}, maxRedirects: 0 });
    expect(missing.status()).toBe(403);
    const wrong = await request.post(`/guilds/${world.guild.id}/refresh`, { form: { csrf: 'not-the-token' }, maxRedirects: 0 });
    expect(wrong.status()).toBe(403);
    const logout = await request.post('/auth/logout', { form: {}, maxRedirects: 0 });
    expect(logout.status()).toBe(403);
    expect(world.github.count('commit')).toBe(before);
    // Still logged in: the refused logout did nothing.
    await page.goto('/');
    await expect(page.getByRole('heading', { name: 'Your servers' }).count()).resolves.toBe(1);
  });

  it('logout revokes the session on the server: the old cookie no longer works', async () => {
    const page = await loggedIn(world.admin.id);
    const cookie = (await page.context().cookies()).find((c) => c.name === 'recap_session');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('link', { name: 'Log in with Discord' }).waitFor();
    // Replaying the old cookie from elsewhere: refused.
    const replay = await fetch(`${world.url}/guilds/${world.guild.id}/summaries`, { headers: { cookie: `recap_session=${cookie?.value ?? ''}` } });
    expect(replay.status).toBe(401);
    await shot(page, 'login');
  });

  it('answers pages with a strict CSP and no-store', async () => {
    const response = await fetch(`${world.url}/`);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(response.headers.get('cache-control')).toBe('no-store');
  });
});

describe('the chromium the browser tests use', () => {
  it('is there', () => {
    expect(browser.version()).toMatch(/^\d+\./);
  });
});
