import { describe, expect, it } from 'vitest';
import { balanceMarkdown } from '../../plugins/local/balance-markdown.ts';
import { bullet, clean } from '../../plugins/local/render.ts';

const fences = (text: string): number => text.split('```').length - 1;

describe('balanceMarkdown', () => {
  it('leaves balanced text alone', () => {
    for (const text of ['plain', 'a `b` c', '```js x = 1```', '**bold** and __under__ ~~gone~~ ||secret||', 'snake_case and 2 * 3', 'a \\*\\* b']) {
      expect(balanceMarkdown(text)).toBe(text);
    }
  });

  it('closes an open code fence, and nothing inside it counts as markup', () => {
    expect(balanceMarkdown('see ```ts const a = **b')).toBe('see ```ts const a = **b```');
  });

  it('drops a fence that opens on nothing', () => {
    expect(balanceMarkdown('look at this ```')).toBe('look at this');
    expect(balanceMarkdown('look at this ```ts')).toBe('look at this');
  });

  it('closes inline code with the same number of backticks', () => {
    expect(balanceMarkdown('run `npm ci')).toBe('run `npm ci`');
    expect(balanceMarkdown('run ``a ` b')).toBe('run ``a ` b``');
  });

  it('closes open emphasis in reverse order', () => {
    expect(balanceMarkdown('**very ~~long')).toBe('**very ~~long~~**');
    expect(balanceMarkdown('a ||spoiler')).toBe('a ||spoiler||');
    expect(balanceMarkdown('__under')).toBe('__under__');
  });

  it('ignores escaped markers', () => {
    expect(balanceMarkdown('\\`not code')).toBe('\\`not code');
  });
});

describe('offline quotes keep markdown balanced', () => {
  it('a quote cut inside a code block closes the block before the citation', () => {
    const code = `Here is the fix: \`\`\`ts\n${'const value = compute(input);\n'.repeat(20)}\`\`\` and that is all`;
    const quoted = clean(code);
    expect(quoted.length).toBeLessThan(code.length);
    expect(fences(quoted) % 2).toBe(0);
    const line = bullet({ ref: 7, author: 'Dana', content: code, timestamp: '2024-03-01T10:00:00Z' });
    expect(line).toMatch(/…``` \[7\]$/);
  });

  it('a quote cut inside bold or inline code closes them', () => {
    const bold = clean(`**${'important '.repeat(40)}**`);
    expect(bold.endsWith('**')).toBe(true);
    expect((bold.match(/\*\*/g) ?? []).length % 2).toBe(0);
    const inline = clean(`run \`${'x'.repeat(300)}\``);
    expect((inline.match(/`/g) ?? []).length % 2).toBe(0);
  });
});
