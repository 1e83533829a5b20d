import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { embedMessages } from '../../src/discord/output/summary-messages.ts';
import { MarkdownPager, splitMarkdown } from '../../src/discord/output/split-markdown.ts';
import { embedLength } from '../../src/discord/format/embed.ts';

const FENCE_LINE = /^.*```.*$/gm;

/** Lines holding an odd number of fences toggle a block; a piece is balanced when they pair up. */
function balanced(piece: string): boolean {
  let open = false;
  for (const line of piece.split('\n')) if (((line.match(/```/g) ?? []).length) % 2 === 1) open = !open;
  return !open;
}

/** The words of a text, fence lines left out (the splitter adds and repeats those). */
function words(text: string): string[] {
  return text.replace(FENCE_LINE, ' ').split(/\s+/).filter((w) => w !== '');
}

describe('splitMarkdown', () => {
  it('keeps short text whole and trims it', () => {
    expect(splitMarkdown('  hello world \n', 100)).toEqual(['hello world']);
    expect(splitMarkdown('', 100)).toEqual([]);
  });

  it('prefers paragraph ends, then line ends, then spaces, and never splits a word', () => {
    const paragraph = 'alpha beta gamma delta. '.repeat(4).trim();
    const text = `${paragraph}\n\n${paragraph}\n\n${paragraph}`;
    const pieces = splitMarkdown(text, paragraph.length * 2 + 10);
    expect(pieces).toEqual([`${paragraph}\n\n${paragraph}`, paragraph]);

    const lines = Array.from({ length: 30 }, (_, i) => `line number ${i} with some words`).join('\n');
    for (const piece of splitMarkdown(lines, 120)) {
      expect(piece.length).toBeLessThanOrEqual(120);
      expect(piece.startsWith('line number')).toBe(true);
      expect(piece.endsWith('words')).toBe(true);
    }
  });

  it('closes a code block at the end of a piece and reopens it, with its language, in the next', () => {
    const code = Array.from({ length: 40 }, (_, i) => `  const value${i} = compute(${i});`).join('\n');
    const text = `Here is the fix:\n\n\`\`\`ts\n${code}\n\`\`\`\n\nThat is all.`;
    const pieces = splitMarkdown(text, 400);
    expect(pieces.length).toBeGreaterThan(2);
    for (const piece of pieces) {
      expect(piece.length).toBeLessThanOrEqual(400);
      expect(balanced(piece)).toBe(true);
    }
    expect(pieces[1]!.startsWith('```ts\n')).toBe(true);
    // Indentation inside the block survives the cut.
    expect(pieces[1]!.split('\n')[1]).toMatch(/^ {2}const value\d+ = compute\(\d+\);$/);
    expect(pieces.at(-1)!.endsWith('That is all.')).toBe(true);
    // Every code line arrives exactly once.
    const codeLines = pieces.flatMap((p) => p.split('\n')).filter((l) => l.startsWith('  const'));
    expect(codeLines).toEqual(code.split('\n'));
  });

  it('does not cut inside inline code when a space outside it is available', () => {
    const text = `${'word '.repeat(10)}\`keep these words together\` ${'tail '.repeat(10)}`;
    const inline = '`keep these words together`';
    for (let max = 64; max < text.length; max += 7) {
      const pieces = splitMarkdown(text, max);
      expect(pieces.filter((p) => p.includes(inline))).toHaveLength(1);
    }
  });

  it('cuts a single word longer than a piece, keeping surrogate pairs whole', () => {
    const long = `${'😀'.repeat(100)}`;
    const pieces = splitMarkdown(long, 65);
    expect(pieces.join('')).toBe(long);
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(65);
  });

  it('refuses pieces too small to make progress', () => {
    expect(() => new MarkdownPager('x'.repeat(500)).take(10)).toThrow(RangeError);
  });

  it('property: pieces fit, code blocks balance, and every word survives whole', () => {
    const word = fc.stringMatching(/^[a-z0-9.,!?'-]{1,12}$/);
    const proseLine = fc.array(word, { minLength: 1, maxLength: 12 }).map((ws) => ws.join(' '));
    const codeBlock = fc
      .tuple(fc.constantFrom('', 'ts', 'python'), fc.array(proseLine.map((l) => `  ${l}`), { minLength: 1, maxLength: 8 }))
      .map(([lang, lines]) => `\`\`\`${lang}\n${lines.join('\n')}\n\`\`\``);
    const block = fc.oneof({ weight: 3, arbitrary: fc.array(proseLine, { minLength: 1, maxLength: 5 }).map((ls) => ls.join('\n')) }, { weight: 1, arbitrary: codeBlock });
    const document = fc.array(block, { minLength: 1, maxLength: 12 }).map((blocks) => blocks.join('\n\n'));
    fc.assert(
      fc.property(document, fc.integer({ min: 64, max: 600 }), (text, max) => {
        const pieces = splitMarkdown(text, max);
        for (const piece of pieces) {
          expect(piece.length).toBeLessThanOrEqual(max);
          expect(piece.trim()).not.toBe('');
          expect(balanced(piece)).toBe(true);
        }
        expect(pieces.flatMap(words)).toEqual(words(text));
      }),
      { numRuns: 300 },
    );
  });
});

describe('embedMessages', () => {
  it('spreads a long text over embeds and messages within every Discord limit, footer and notes last', () => {
    const paragraph = (i: number) => `Paragraph ${i}: ${'the team discussed the release plan and its risks '.repeat(6)}`;
    const code = `\`\`\`sql\n${Array.from({ length: 120 }, (_, i) => `select * from t where id = ${i};`).join('\n')}\n\`\`\``;
    const text = [...Array.from({ length: 30 }, (_, i) => paragraph(i)), code, paragraph(99)].join('\n\n');
    const messages = embedMessages({ title: 'Detailed summary of #general', text, footer: 'Prompt bundled:x · local/m · 30 messages · 1 chunk · $0', notes: ['one warning'], color: 1 });

    expect(messages.length).toBeGreaterThan(1);
    const descriptions: string[] = [];
    for (const message of messages) {
      expect(message.embeds.length).toBeLessThanOrEqual(10);
      expect(message.embeds.reduce((n, e) => n + embedLength(e), 0)).toBeLessThanOrEqual(6_000);
      expect(message.allowedMentions).toEqual({ parse: [] });
      for (const embed of message.embeds) {
        expect(embed.description!.length).toBeLessThanOrEqual(4_096);
        expect(balanced(embed.description!)).toBe(true);
        descriptions.push(embed.description!);
      }
    }
    expect(words(descriptions.join('\n'))).toEqual(words(text));
    const all = messages.flatMap((m) => m.embeds);
    expect(all[0]!.title).toBe('Detailed summary of #general');
    expect(all.filter((e) => e.title !== undefined)).toHaveLength(1);
    expect(all.filter((e) => e.footer !== undefined)).toEqual([all.at(-1)]);
    expect(all.at(-1)!.fields).toEqual([{ name: 'Notes', value: '• one warning' }]);
  });

  it('says so when the text is empty', () => {
    const [message] = embedMessages({ title: 't', text: '  ', footer: 'f', emptyText: '(nothing)' });
    expect(message!.embeds[0]!.description).toBe('(nothing)');
  });
});
