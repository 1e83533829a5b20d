/**
 * Prompt repositories for the prompt benchmarks: realistic instruction text
 * of a chosen size, with the variables a real prompt uses, and no two
 * prompts alike (distinct content cannot share memory).
 */
import type { PromptContext } from '../src/prompts/types.ts';

const INSTRUCTIONS = [
  'Summarize the conversation in #{channel} for readers who were not there.',
  'Write for {perspective} readers of {guild_name}; keep names as they appear.',
  'Lead with decisions, then open questions, then action items with their owners.',
  'Quote a message only when its exact wording matters, and cite it by number.',
  'Keep the {type} format: short paragraphs, no headings unless asked for.',
  'Do not invent facts, dates or owners that the messages do not state.',
  'When a thread changed direction, say what changed and who proposed it.',
  'Mention disagreements fairly, giving each side in one sentence.',
  'Leave out greetings, jokes and reactions unless they carry information.',
  'If the conversation is mostly off-topic, say so in one line and stop.',
];

/**
 * A prompt body of exactly `bytes` UTF-8 bytes (ASCII), made of instruction
 * lines and ending with the `{messages}` marker. `marker` makes it unique.
 */
export function promptBody(bytes: number, marker: string): string {
  const tail = '\n{messages}\n';
  let text = `${marker}: you are summarizing a Discord discussion.\n`;
  for (let line = 0; ; line++) {
    const next = `${line + 1}. ${INSTRUCTIONS[line % INSTRUCTIONS.length]} (${marker}-${line})\n`;
    if (text.length + next.length + tail.length > bytes) break;
    text += next;
  }
  // Plain filler (no braces) brings it to the exact size.
  const filler = `Notes for ${marker}. `;
  while (text.length + tail.length < bytes) text += filler.slice(0, bytes - tail.length - text.length);
  return text + tail;
}

/** The reference bot's YAML v1 routing: a channel's own prompt, else its category's default. */
const CHANNEL_ROUTING = [
  'version: v1',
  'routes:',
  '  channel_specific: "prompts/{category}/{channel}.md"',
  '  category_default: "prompts/{category}/default.md"',
  'fallback_chain:',
  '  - channel_specific',
  '  - category_default',
  '',
].join('\n');

/** The warm-path repo: `context` routes to a prompt of `bytes` bytes. */
export function warmRepoFiles(bytes: number): Record<string, string> {
  return {
    PATH: CHANNEL_ROUTING,
    'prompts/discussion/general.md': promptBody(bytes, 'WARM'),
    'prompts/discussion/default.md': promptBody(1024, 'WARM-DEFAULT'),
  };
}

export const warmContext: PromptContext = { category: 'discussion', channel_name: 'general', type: 'brief', guild_name: 'Acme' };

const CATEGORIES = ['discussion', 'meeting', 'support', 'release', 'incident'];
const TYPES = ['brief', 'detailed', 'action_items', 'decisions'];

/** Twenty distinct request contexts (5 categories × 4 types). */
export const workloadContexts: readonly PromptContext[] = CATEGORIES.flatMap((category) =>
  TYPES.map((type) => ({ category, type, channel_name: `${category}-${type}`, guild_name: 'Bench' })),
);

/** A repo with one prompt per workload context (`summaries/{category}/{type}.md`), each a few KiB. */
export function workloadRepoFiles(marker: string): Record<string, string> {
  const files: Record<string, string> = {
    PATH: [
      'version: v2',
      'routes:',
      '  category_type: "summaries/{category}/{type}.md"',
      '  global: "summaries/global.md"',
      'fallback_chain: [category_type, global]',
      '',
    ].join('\n'),
    'summaries/global.md': promptBody(2048, `${marker}-global`),
  };
  for (const category of CATEGORIES) {
    for (const type of TYPES) files[`summaries/${category}/${type}.md`] = promptBody(3072, `${marker}-${category}-${type}`);
  }
  return files;
}

/**
 * A whole snapshot's files as bytes: a PATH routing `{category}/{type}` and
 * `count` prompts of `bytes` bytes each, all unique to `marker`.
 */
export function generatedSnapshotFiles(marker: string, count: number, bytes: number): Map<string, Uint8Array> {
  const encoder = new TextEncoder();
  const files = new Map<string, Uint8Array>();
  files.set('PATH', encoder.encode(CHANNEL_ROUTING));
  for (let i = 0; i < count; i++) {
    files.set(`prompts/category-${i}/default.md`, encoder.encode(promptBody(bytes, `${marker}-${i}`)));
  }
  return files;
}
