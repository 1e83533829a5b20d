/**
 * The real entry (`src/main.ts`) with a plugins config whose anthropic
 * `models` entry lacks `context_window`: start-up stops with one line naming
 * the file and line, unless the config marks the plugin `optional: true`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, spawnBotProcess } from '../e2e/harness.ts';
import { childEnv, seededPgliteDataDir } from '../faults/process-env.ts';

function pluginsYaml(optional: boolean): string {
  return [
    'plugins:',
    '  local: {}',
    '  anthropic:',
    ...(optional ? ['    optional: true'] : []),
    '    config:',
    '      models:',
    '        - id: claude-sonnet-4-6',
    '          max_output_tokens: 64000',
    '          input_price: 3',
    '          output_price: 15',
    '',
  ].join('\n');
}

describe('start-up with plugin settings the plugin refuses', () => {
  let data: { dir: string; remove(): void };
  let configDir: string;

  beforeAll(async () => {
    data = await seededPgliteDataDir();
    configDir = mkdtempSync(join(tmpdir(), 'recap-plugins-config-'));
  });
  afterAll(() => {
    data.remove();
    rmSync(configDir, { recursive: true, force: true });
  });

  function spawnWith(optional: boolean) {
    const file = join(configDir, optional ? 'optional.yaml' : 'plugins.yaml');
    writeFileSync(file, pluginsYaml(optional));
    return { bot: spawnBotProcess(childEnv({ DATA_DIR: data.dir, PLUGINS_CONFIG: file, ANTHROPIC_API_KEY: '' })), shown: relative(REPO_ROOT, file) };
  }

  it('exits non-zero with one line naming the file, the models entry line and the plugin', async () => {
    const { bot, shown } = spawnWith(false);
    const exit = await Promise.race([
      bot.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running after 60 s:\n${bot.tail()}`)), 60_000)),
    ]).finally(() => bot.kill());

    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    const stderr = bot.lines.filter((l) => l.stream === 'stderr').map((l) => l.raw);
    expect(stderr).toHaveLength(1);
    // Line 6 is `- id: claude-sonnet-4-6`, the entry that lacks the field.
    expect(stderr[0]).toMatch(new RegExp(`^recap-bot: configuration: PLUGINS_CONFIG ${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:6: anthropic: models\\.0\\.context_window: `));
  }, 90_000);

  it('runs without the plugin, with a warning, when the config marks it optional', async () => {
    const { bot } = spawnWith(true);
    try {
      await bot.ready(60_000);
      const warning = bot.lines.find((l) => l.json?.['plugin'] === 'anthropic' && l.msg.includes('running without it'));
      expect(warning?.json?.['reason']).toMatch(/^anthropic config: models\.0\.context_window: /);
    } finally {
      bot.kill();
      await bot.exited;
    }
  }, 90_000);
});
