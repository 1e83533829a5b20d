import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Environment variable names the program reads: config schema keys and `env.NAME` look-ups. */
function variablesRead(): Set<string> {
  const names = new Set<string>();
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) visit(path);
      else if (path.endsWith('.ts')) {
        const text = readFileSync(path, 'utf8');
        for (const m of text.matchAll(/\benv(?:\??\.|\[['"])([A-Z][A-Z0-9_]{2,})\b/g)) names.add(m[1]!);
        for (const m of text.matchAll(/`\$\{prefix\}_([A-Z_]+)`/g)) for (const p of ['ANTHROPIC', 'OPENAI']) names.add(`${p}_${m[1]}`);
      }
    }
  };
  visit('src');
  visit('plugins');
  const config = readFileSync('src/config/env.ts', 'utf8');
  for (const m of config.matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)) names.add(m[1]!);
  for (const dir of readdirSync('plugins')) {
    const manifest = join('plugins', dir, 'plugin.yaml');
    try {
      for (const m of readFileSync(manifest, 'utf8').matchAll(/^\s+env:\s*([A-Z][A-Z0-9_]+)/gm)) names.add(m[1]!);
    } catch {
      // not a plugin folder
    }
  }
  return names;
}

describe('.env.example', () => {
  it('lists every variable the program reads, each with a comment', () => {
    const lines = readFileSync('.env.example', 'utf8').split('\n');
    const listed = new Map<string, number>();
    lines.forEach((line, i) => {
      const m = /^([A-Z][A-Z0-9_]+)=/.exec(line);
      if (m) listed.set(m[1]!, i);
    });
    const missing = [...variablesRead()].filter((name) => !listed.has(name)).sort();
    expect(missing).toEqual([]);
    for (const [name, index] of listed) {
      let j = index - 1;
      while (j >= 0 && /^[A-Z][A-Z0-9_]+=/.test(lines[j]!)) j -= 1;
      expect(lines[j]?.startsWith('#'), `${name} needs a comment above it`).toBe(true);
    }
  });

  it('documents the variables the test suite reads from the shell', () => {
    const text = readFileSync('.env.example', 'utf8');
    const read = new Set<string>();
    for (const file of readdirSync('tests/setup')) {
      for (const m of readFileSync(join('tests/setup', file), 'utf8').matchAll(/process\.env\.([A-Z][A-Z0-9_]{2,})/g)) read.add(m[1]!);
    }
    expect([...read]).toContain('TEST_DATABASE_URL');
    for (const name of read) expect(text, `${name} is documented`).toMatch(new RegExp(`^# ${name}=`, 'm'));
  });
});
