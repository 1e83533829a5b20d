import { describe, expect, it } from 'vitest';
import { cliCitationStyle } from '../../src/cli/citation-style.ts';
import { discordCitationStyle } from '../../src/discord/output/citation-style.ts';
import { renderCitations, type CitationStyle } from '../../src/summaries/citation-render.ts';
import { citationGroups } from '../../src/summaries/citations.ts';

const url = (id: number) => `https://discord.com/channels/1/2/${id}`;
const citations = [
  { ref: 1, messageId: '101', jumpUrl: url(101) },
  { ref: 2, messageId: '102', jumpUrl: url(102) },
  { ref: 3, messageId: '103', jumpUrl: 'https://evil.example/phish' },
  { ref: 4, messageId: '104' },
];

describe('citationGroups', () => {
  it('yields each bracketed group with its numbers and where it stands', () => {
    const text = 'A [12], B [3][7], C [3, 7 ,9], not [x] or [ ].';
    expect([...citationGroups(text)]).toEqual([
      { refs: [12], index: 2, written: '[12]' },
      { refs: [3], index: 10, written: '[3]' },
      { refs: [7], index: 13, written: '[7]' },
      { refs: [3, 7, 9], index: 20, written: '[3, 7 ,9]' },
    ]);
  });

  it('stays linear on a hostile run of brackets and digits', () => {
    const hostile = `[${'1,'.repeat(100_000)}`;
    expect([...citationGroups(hostile)]).toEqual([]);
  });
});

describe('renderCitations in the Discord style', () => {
  it('links cited numbers to their messages, leaving code and unknown numbers alone', () => {
    const text = 'Release is Friday [1]. Tests green [1, 2]. Odd [3] and [9].\n```\narray[1]\n```\nInline `x[2]` stays.';
    expect(renderCitations(text, citations, discordCitationStyle)).toBe(
      `Release is Friday [[1]](${url(101)}). Tests green [[1]](${url(101)}) [[2]](${url(102)}). Odd [3] and [9].\n\`\`\`\narray[1]\n\`\`\`\nInline \`x[2]\` stays.`,
    );
  });

  it('links only Discord message URLs, and splits a group where some numbers cannot be linked', () => {
    expect(renderCitations('See [3, 2, 4].', citations, discordCitationStyle)).toBe(`See [3] [[2]](${url(102)}) [4].`);
    expect(renderCitations('See [3, 4].', citations.slice(2), discordCitationStyle)).toBe('See [3, 4].');
  });

  it('does not link twice, nor a number that is already link text', () => {
    const once = renderCitations('See [2].', citations, discordCitationStyle);
    expect(renderCitations(once, citations, discordCitationStyle)).toBe(once);
    expect(renderCitations('See [2](https://example.com).', citations, discordCitationStyle)).toBe('See [2](https://example.com).');
  });
});

describe('renderCitations in the CLI style', () => {
  it('keeps the numbers as written and lists where each points after the text', () => {
    expect(renderCitations('Shipped [1], [4].\n', citations.filter((c) => c.ref !== 3), cliCitationStyle)).toBe(
      `Shipped [1], [4].\n\n[1] → ${url(101)}\n[2] → ${url(102)}\n[4] → message 104`,
    );
  });

  it('leaves a text without citations as it is', () => {
    expect(renderCitations('Nothing cited.\n', [], cliCitationStyle)).toBe('Nothing cited.\n');
  });
});

describe('a surface of its own', () => {
  it('renders through the same renderer with its own link format', () => {
    const html: CitationStyle = { link: (c) => (c.jumpUrl === undefined ? undefined : `<a href="${c.jumpUrl}">${c.ref}</a>`) };
    expect(renderCitations('Done [1][4].', citations, html)).toBe(`Done <a href="${url(101)}">1</a>[4].`);
  });
});
