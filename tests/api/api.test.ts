/**
 * The REST API over real HTTP: the app in the web role, discord.js over
 * REST against the Discord emulator, the job queue and the summarize
 * pipeline for real, on PGlite and on Postgres.
 */
import { validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ApiKeyStore, type ApiScope } from '../../src/api/api-keys.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { startApiHarness, type ApiHarness } from './harness.ts';

describeEachDatabase('REST API /api/v1', (db) => {
  let h: ApiHarness;
  let keys: ApiKeyStore;
  beforeAll(async () => {
    h = await startApiHarness(db().handle, { API_RATE_PER_MINUTE: '300' });
    keys = new ApiKeyStore(db().handle.db);
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    expect(h?.discord.internalErrors ?? []).toEqual([]);
  });

  const newKey = async (scopes: ApiScope[], createdBy = h.world.admin.id) =>
    (await keys.create({ guildId: h.world.guild.id, name: 'test', scopes, createdBy })).key;
  const call = (path: string, key: string | undefined, init: RequestInit = {}) =>
    fetch(`${h.url}${path}`, {
      ...init,
      headers: { ...(key === undefined ? {} : { authorization: `Bearer ${key}` }), ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...(init.headers as Record<string, string> | undefined) },
    });
  const post = (key: string | undefined, body: unknown, guild = h.world.guild.id) => call(`/api/v1/guilds/${guild}/summaries`, key, { method: 'POST', body: JSON.stringify(body) });

  async function finishedJob(key: string, jobId: string): Promise<Record<string, unknown>> {
    for (let i = 0; i < 150; i++) {
      const res = await call(`/api/v1/jobs/${jobId}`, key);
      expect(res.status).toBe(200);
      const job = (await res.json()) as Record<string, unknown>;
      if (job['state'] === 'done' || job['state'] === 'failed') return job;
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`job ${jobId} did not finish`);
  }

  async function summaryOf(key: string, channel: string): Promise<string> {
    const res = await post(key, { channel, messages: 50, type: 'brief' });
    expect(res.status).toBe(202);
    const accepted = (await res.json()) as { jobId: string; links: { job: string } };
    expect(res.headers.get('location')).toBe(accepted.links.job);
    const job = await finishedJob(key, accepted.jobId);
    expect(job).toMatchObject({ state: 'done', error: null });
    return job['summaryId'] as string;
  }

  it('a key creates a summary (202, job), the job runs the pipeline, and the summary reads back and lists', async () => {
    const key = await newKey(['summaries:read', 'summaries:create']);
    const id = await summaryOf(key, h.world.general.id);
    const res = await call(`/api/v1/summaries/${id}`, key);
    expect(res.status).toBe(200);
    const summary = (await res.json()) as Record<string, unknown>;
    expect(summary).toMatchObject({ id, guildId: h.world.guild.id, channelId: h.world.general.id, type: 'brief', provider: 'local' });
    expect(String(summary['text'])).toMatch(/Friday|changelog|docs/);
    const list = (await (await call(`/api/v1/guilds/${h.world.guild.id}/summaries?channel=${h.world.general.id}`, key)).json()) as { items: Array<{ id: string }>; nextCursor: string | null };
    expect(list.items.map((s) => s.id)).toContain(id);
    // Last use is recorded.
    const [info] = (await keys.list(h.world.guild.id)).filter((k) => key.includes(k.prefixId));
    expect(info?.lastUsedAt).toBeInstanceOf(Date);
  });

  it('no key, a wrong, short, malformed or revoked key: 401 problem details, the key never echoed or logged', async () => {
    const good = await newKey(['summaries:read']);
    const wrong = `${good.slice(0, -6)}AAAAAA`;
    const unknown = `rk_aaaaaaaaaaaa_${'B'.repeat(43)}`;
    const short = 'rk_abc';
    const revoked = await newKey(['summaries:read']);
    expect(await keys.revoke(h.world.guild.id, revoked.split('_')[1]!, h.world.admin.id)).toBe(true);
    for (const key of [undefined, wrong, unknown, short, 'x'.repeat(12), revoked]) {
      const res = await call(`/api/v1/guilds/${h.world.guild.id}/summaries`, key);
      expect(res.status, String(key)).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const text = await res.text();
      const body = JSON.parse(text) as Record<string, unknown>;
      expect(body).toMatchObject({ status: 401, type: expect.stringMatching(/unauthorized$/) });
      if (key !== undefined) {
        expect(text).not.toContain(key);
        if (key.length > 20) expect(text).not.toContain(key.slice(16));
      }
    }
    // A POST with a wrong key is refused before its body is read (a declared 1 MB that never comes).
    const res = await fetch(`${h.url}/api/v1/guilds/${h.world.guild.id}/summaries`, {
      method: 'POST',
      headers: { authorization: `Bearer ${wrong}`, 'content-type': 'application/json' },
      body: new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode('{"channel":')) }),
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(401);
    for (const key of [wrong, revoked, good]) expect(h.logText()).not.toContain(key.slice(16));
    expect(h.logText()).not.toContain(short);
  });

  it('scopes are enforced per route', async () => {
    const readOnly = await newKey(['summaries:read']);
    const createOnly = await newKey(['summaries:create']);
    const res = await post(readOnly, { channel: h.world.general.id });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ type: expect.stringMatching(/insufficient-scope$/) });
    expect((await call(`/api/v1/guilds/${h.world.guild.id}/summaries`, createOnly)).status).toBe(403);
    expect((await call('/api/v1/summaries/00000000-0000-0000-0000-000000000000', createOnly)).status).toBe(403);
    // Another server's path: refused.
    expect((await call('/api/v1/guilds/123456789012345678/summaries', readOnly)).status).toBe(403);
  });

  it('visibility: only channels the key\'s admin can read now; a key of an admin who lost Manage Server cannot act', async () => {
    const key = await newKey(['summaries:read', 'summaries:create']);
    const refused = await post(key, { channel: h.world.hidden.id });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ type: expect.stringMatching(/channel-not-readable$/) });
    // Private to @everyone but readable by the admin: allowed.
    const staffSummary = await summaryOf(key, h.world.staff.id);
    expect((await call(`/api/v1/summaries/${staffSummary}`, key)).status).toBe(200);
    // The admin loses access to #staff: the stored summary is no longer shown, nor listed.
    h.discord.setOverwrite(h.world.staff.id, { id: h.world.admin.id, type: 'member', deny: ['ViewChannel'] });
    try {
      const gone = await call(`/api/v1/summaries/${staffSummary}`, key);
      expect(gone.status).toBe(404);
      const list = (await (await call(`/api/v1/guilds/${h.world.guild.id}/summaries`, key)).json()) as { items: Array<{ id: string; channelId: string }> };
      expect(list.items.map((s) => s.id)).not.toContain(staffSummary);
      expect(list.items.every((s) => s.channelId === h.world.general.id)).toBe(true);
      expect((await call(`/api/v1/guilds/${h.world.guild.id}/summaries?channel=${h.world.staff.id}`, key)).status).toBe(403);
    } finally {
      h.discord.setOverwrite(h.world.staff.id, { id: h.world.admin.id, type: 'member', allow: ['ViewChannel'] });
    }
    const exKey = await newKey(['summaries:read', 'summaries:create'], h.world.exadmin.id);
    const ex = await post(exKey, { channel: h.world.general.id });
    expect(ex.status).toBe(403);
    expect(await ex.json()).toMatchObject({ type: expect.stringMatching(/key-admin-not-admin$/) });
  });

  it('bad bodies and queries get specific 400 problem details', async () => {
    const key = await newKey(['summaries:read', 'summaries:create']);
    const notJson = await call(`/api/v1/guilds/${h.world.guild.id}/summaries`, key, { method: 'POST', body: '{nope' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ type: expect.stringMatching(/invalid-json$/) });
    const invalid = await post(key, { channel: 'general', messages: 0, extra: true });
    expect(invalid.status).toBe(400);
    const body = (await invalid.json()) as { errors: Array<{ path: string }> };
    expect(body.errors.map((e) => e.path).sort()).toEqual(expect.arrayContaining(['channel', 'messages']));
    const since = await post(key, { channel: h.world.general.id, since: 'yesterday-ish' });
    expect(since.status).toBe(202);
    const job = await finishedJob(key, ((await since.json()) as { jobId: string }).jobId);
    expect(job).toMatchObject({ state: 'failed', summaryId: null });
    expect(String(job['error'])).toMatch(/since/);
    expect((await call(`/api/v1/guilds/${h.world.guild.id}/summaries?limit=500`, key)).status).toBe(400);
    expect((await call(`/api/v1/guilds/${h.world.guild.id}/summaries?cursor=zzz`, key)).status).toBe(400);
    expect((await call('/api/v1/jobs/00000000-0000-0000-0000-000000000000', key)).status).toBe(404);
  });

  it('rate limits per key: 429 with Retry-After, while another key still passes', async () => {
    const busy = await newKey(['summaries:read']);
    // All at once (the limit is 300 a minute), so the bucket barely refills meanwhile.
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 400 }, () => call('/api/v1/summaries/00000000-0000-0000-0000-000000000000', busy)));
    const elapsedMs = Date.now() - started;
    const limited = answers.filter((r) => r.status === 429);
    const allowed = answers.filter((r) => r.status === 404).length;
    expect(allowed + limited.length).toBe(400);
    // A burst of 300, then 300 a minute: no more got through than the bucket held and regained meanwhile.
    expect(allowed).toBeGreaterThanOrEqual(300);
    expect(allowed).toBeLessThanOrEqual(300 + Math.ceil((elapsedMs / 60_000) * 300) + 1);
    expect(limited.length).toBeGreaterThan(0);
    expect(Number(limited[0]!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await limited[0]!.json()).toMatchObject({ status: 429, type: expect.stringMatching(/rate-limited$/) });
    const other = await newKey(['summaries:read']);
    expect((await call('/api/v1/summaries/00000000-0000-0000-0000-000000000000', other)).status).toBe(404);
  });

  it('serves an OpenAPI 3.1 document that validates, generated from the request schemas', async () => {
    const res = await fetch(`${h.url}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Record<string, any>;
    expect(doc['openapi']).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid ? [] : result.errors).toEqual([]);
    const create = doc['components']['schemas']['CreateSummaryRequest'];
    expect(create['required']).toEqual(['channel']);
    expect(create['additionalProperties']).toBe(false);
    expect(create['properties']['messages']).toMatchObject({ minimum: 1, maximum: 10_000 });
    expect(Object.keys(doc['paths'])).toEqual(expect.arrayContaining(['/api/v1/guilds/{guild}/summaries', '/api/v1/summaries/{id}', '/api/v1/jobs/{id}']));
  });
});
