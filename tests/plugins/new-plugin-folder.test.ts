/**
 * A plugin added as a folder alone: a temporary plugins directory holding
 * `quokka/` (a provider switched on by QUOKKA_API_KEY, with its own settings
 * from the environment and a default model per task) and `scrubber/` (a
 * processor claiming the "pii-processor" role), loaded by the real service
 * on a real database. Nothing under src/ names either.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLlmService, type LlmService } from '../../src/llm/service.ts';
import { createMetricsRegistry } from '../../src/metrics/registry.ts';
import type { Environment } from '../../src/llm/plugin-host/env-substitution.ts';
import { systemClock } from '../../src/resilience/clock.ts';
import { createPgliteDatabase } from '../helpers/databases.ts';
import { MemoryLogger, ask, createVault, ctx, newGuild } from '../llm/support.ts';

const SRC = path.resolve(import.meta.dirname, '..', '..', 'src');

const QUOKKA_MANIFEST = `name: quokka
version: 0.1.0
kind: provider
entry: index.mjs
description: A provider that exists only in this test's plugins folder
config:
  region:
    type: string
    default: eu
secrets:
  - name: api_key
    env: QUOKKA_API_KEY
    guild_overridable: true
enabled_by_env: [QUOKKA_API_KEY]
env_settings:
  region: QUOKKA_REGION
default_route:
  rank: 5
  model_env: QUOKKA_MODEL
  models:
    summarize: quokka-large
    summarize-map: quokka-large
    chat: quokka-small
`;

// Plain JavaScript with no imports: the folder is all a plugin author writes.
const QUOKKA_CODE = `
export default function quokka(ctx) {
  const models = ['quokka-large', 'quokka-small'].map((id) => ({
    id, contextWindow: 100000, maxOutputTokens: 1000, streaming: false, inputPricePerMTok: 0, outputPricePerMTok: 0,
  }));
  const answer = (request) => ({
    text: 'quokka(' + ctx.config.region + ') keyed=' + (request.apiKey === ctx.secret('api_key')) + ' saw: ' + request.turns.at(-1).content,
    finishReason: 'stop',
    usage: { inputTokens: 3, outputTokens: 4 },
    provider: 'quokka',
    model: request.model,
  });
  return {
    kind: 'provider',
    provider: {
      specificationVersion: 'v1',
      name: 'quokka',
      models,
      requiresKey: true,
      generate: async (request) => answer(request),
      async *stream(request) {
        const response = answer(request);
        yield { type: 'text', delta: response.text };
        yield { type: 'finish', finishReason: 'stop', usage: response.usage, provider: 'quokka', model: request.model };
      },
      health: async () => ({ ok: true }),
    },
  };
}
`;

const SCRUBBER_MANIFEST = `name: scrubber
version: 0.1.0
kind: processor
entry: index.mjs
enabled_by_default: true
roles: [pii-processor]
`;

const SCRUBBER_CODE = `
export default function scrubber() {
  return {
    kind: 'processor',
    processor: {
      name: 'scrubber',
      process: (request) => ({ ...request, turns: request.turns.map((t) => ({ ...t, content: t.content.replaceAll('alice@example.com', '[email]') })) }),
    },
  };
}
`;

const FUTURE_MANIFEST = `name: future
version: 1.0.0
kind: provider
entry: index.mjs
enabled_by_default: true
`;

const FUTURE_CODE = `
export default () => ({
  kind: 'provider',
  provider: {
    specificationVersion: 'v9', name: 'future', models: [], requiresKey: false,
    generate: async () => { throw new Error('unreachable'); }, stream: async function* () {}, health: async () => ({ ok: true }),
  },
});
`;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function pluginsFolder(plugins: Record<string, { manifest: string; code: string }>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'plugins-folder-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  for (const [name, files] of Object.entries(plugins)) {
    await mkdir(path.join(dir, name));
    await writeFile(path.join(dir, name, 'plugin.yaml'), files.manifest);
    await writeFile(path.join(dir, name, 'index.mjs'), files.code);
  }
  return dir;
}

async function service(pluginsDir: string, env: Environment): Promise<LlmService> {
  const database = await createPgliteDatabase();
  cleanups.push(() => database.close());
  const llm = await createLlmService({
    env,
    db: database.db,
    vault: await createVault(database.db),
    logger: new MemoryLogger(),
    metrics: createMetricsRegistry({ defaultMetrics: false }),
    clock: systemClock,
    pluginsDir,
    displayRoot: pluginsDir,
  });
  cleanups.push(() => llm.close());
  return llm;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

describe('a plugin defined only by its folder', () => {
  it('is switched on by its own variable, routed to its default model per task, and configured from the environment', async () => {
    const dir = await pluginsFolder({ quokka: { manifest: QUOKKA_MANIFEST, code: QUOKKA_CODE } });
    const llm = await service(dir, { QUOKKA_API_KEY: 'quokka-key-0001', QUOKKA_REGION: 'us' });

    expect(llm.enabledProviders()).toEqual(['quokka']);
    expect(llm.host.router.tasks).toEqual({ summarize: ['quokka/quokka-large'], 'summarize-map': ['quokka/quokka-large'], chat: ['quokka/quokka-small'] });

    const summary = await llm.router.generate(ask('What happened?'), ctx(undefined));
    expect(summary).toMatchObject({ provider: 'quokka', model: 'quokka-large', text: 'quokka(us) keyed=true saw: What happened?' });
    const chat = await llm.router.generate(ask('hi'), ctx(undefined, 'u', 'chat'));
    expect(chat).toMatchObject({ provider: 'quokka', model: 'quokka-small' });
  });

  it('takes the model from its model variable, and stays off without its switch', async () => {
    const dir = await pluginsFolder({ quokka: { manifest: QUOKKA_MANIFEST, code: QUOKKA_CODE } });
    const chosen = await service(dir, { QUOKKA_API_KEY: 'quokka-key-0001', QUOKKA_MODEL: 'quokka-small' });
    expect(chosen.host.router.tasks.summarize).toEqual(['quokka/quokka-small']);
    expect(await chosen.router.generate(ask('x'), ctx(undefined))).toMatchObject({ model: 'quokka-small', text: 'quokka(eu) keyed=true saw: x' });

    const off = await service(dir, { QUOKKA_REGION: 'us' });
    expect(off.enabledProviders()).toEqual([]);
    expect((await off.host.statuses()).find((status) => status.name === 'quokka')).toMatchObject({ state: 'disabled' });
  });

  it('switches a processor with the pii-processor role by the guild setting', async () => {
    const dir = await pluginsFolder({ quokka: { manifest: QUOKKA_MANIFEST, code: QUOKKA_CODE }, scrubber: { manifest: SCRUBBER_MANIFEST, code: SCRUBBER_CODE } });
    const llm = await service(dir, { QUOKKA_API_KEY: 'quokka-key-0001' });
    const guild = newGuild();
    const actor = { actorId: 'admin-1', correlationId: 'corr-1' };

    expect((await llm.router.generate(ask('mail alice@example.com'), ctx(guild))).text).toMatch(/saw: mail \[email\]$/);
    await llm.settings.update(guild, { piiRedaction: false }, actor);
    expect((await llm.router.generate(ask('mail alice@example.com'), ctx(guild))).text).toMatch(/saw: mail alice@example\.com$/);
  });

  it('refuses a provider written for a provider API this host does not speak', async () => {
    const dir = await pluginsFolder({
      future: { manifest: FUTURE_MANIFEST, code: FUTURE_CODE },
      unstated: { manifest: FUTURE_MANIFEST.replace('name: future', 'name: unstated'), code: FUTURE_CODE.replace("specificationVersion: 'v9', name: 'future'", "name: 'unstated'") },
    });
    const llm = await service(dir, {});
    const statuses = await llm.host.statuses();
    const future = statuses.find((s) => s.name === 'future');
    expect(future).toMatchObject({ state: 'error' });
    expect(future?.reason).toContain('provider.specificationVersion "v9" is not supported by this host (supported: v1)');
    const unstated = statuses.find((s) => s.name === 'unstated');
    expect(unstated).toMatchObject({ state: 'error' });
    expect(unstated?.reason).toContain('provider.specificationVersion is missing: state the provider API the plugin was written for ("v1")');
  });

  it('is named nowhere under src/', async () => {
    const files = await sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(50);
    for (const file of files) {
      const text = (await readFile(file, 'utf8')).toLowerCase();
      expect({ file, quokka: text.includes('quokka'), scrubber: text.includes('scrubber') }).toEqual({ file, quokka: false, scrubber: false });
    }
  });
});
