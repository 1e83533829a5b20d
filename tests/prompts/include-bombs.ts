/**
 * Prompt repositories built to blow up include expansion, at the default
 * limits. The tests feed them to the compiler, the CLI and the GitHub
 * source; `npm run bench -- abuse` measures the worst of them.
 */

export type RepoFiles = Record<string, string>;

export interface IncludeBombShape {
  name: string;
  files: RepoFiles;
}

const PATH_V2 = ['version: v2', 'routes:', '  global: summaries/global.md', '  prompts: "prompts/{type}.md"', ''].join('\n');

/** Always compiles: what the rest of a bombed repository still serves. */
export const DEFAULT_PROMPT = 'Summarize #{channel} for {perspective} readers.\n\n{messages}\n';

/**
 * The reported attack: `summaries/global.md` includes `a`, `a` … `d` each
 * include the next 2,000 times, `e` is 2,000 × `{guild} `. Copying included
 * segments made that 2000⁴ × 4,000 segments.
 */
export function includeBombRepo(): RepoFiles {
  const chain = ['a', 'b', 'c', 'd', 'e'];
  const files: RepoFiles = {
    PATH: PATH_V2,
    'summaries/global.md': '{> a}',
    'prompts/default.md': DEFAULT_PROMPT,
  };
  for (let k = 0; k < 4; k++) files[`${chain[k]}.md`] = `{> ${chain[k + 1]}}`.repeat(2000);
  files['e.md'] = '{guild} '.repeat(2000);
  return files;
}

/** Every shape, each near the default limits (2,000 files, 10 MiB, includes 5 deep). */
export function includeBombShapes(): IncludeBombShape[] {
  return [
    { name: 'reproduction', files: includeBombRepo() },
    { name: 'wide-fan-out', files: wideFanOut() },
    { name: 'deep-doubling-chain', files: deepDoublingChain() },
    { name: 'diamonds', files: diamonds() },
    { name: 'large-leaves', files: largeLeaves() },
    { name: 'many-prompts-sharing-50k', files: manyPromptsSharing() },
    { name: 'many-small-files', files: manySmallFiles() },
  ];
}

function base(): RepoFiles {
  return { PATH: PATH_V2, 'prompts/default.md': DEFAULT_PROMPT };
}

/** One prompt including 1,990 different 5 KiB files. */
function wideFanOut(): RepoFiles {
  const files = base();
  const markers: string[] = [];
  for (let k = 0; k < 1990; k++) {
    files[`parts/p${k}.md`] = `part ${k} {channel} `.repeat(200);
    markers.push(`{> parts/p${k}}`);
  }
  files['summaries/global.md'] = markers.join('\n');
  return files;
}

/** Five levels, each including the next twice per line on 5,000 lines, over a leaf of `{messages}`. */
function deepDoublingChain(): RepoFiles {
  const files = base();
  const levels = ['l1', 'l2', 'l3', 'l4', 'l5'];
  files['summaries/global.md'] = '{> l1}\n'.repeat(5000);
  for (let k = 0; k < levels.length - 1; k++) files[`${levels[k]}.md`] = `{> ${levels[k + 1]}}{> ${levels[k + 1]}}\n`.repeat(5000);
  files['l5.md'] = '{messages}'.repeat(5000);
  return files;
}

/** Five layers of 300 files, each including every file of the layer below. */
function diamonds(): RepoFiles {
  const files = base();
  const width = 300;
  const layer = (d: number, k: number): string => `layer${d}/f${k}`;
  for (let d = 0; d < 5; d++) {
    for (let k = 0; k < width; k++) {
      files[`${layer(d, k)}.md`] = d === 4 ? `leaf ${k} {channel}\n` : Array.from({ length: width }, (_, j) => `{> ${layer(d + 1, j)}}`).join('');
    }
  }
  files['summaries/global.md'] = Array.from({ length: width }, (_, j) => `{> ${layer(0, j)}}`).join('\n');
  return files;
}

/** A 4 MiB leaf of 600,000 variables and a 4 MiB leaf of text, each included by prompts 500 times. */
function largeLeaves(): RepoFiles {
  const files = base();
  files['leaves/vars.md'] = '{guild}'.repeat(600_000);
  files['leaves/text.md'] = 'x'.repeat(4 * 1024 * 1024);
  files['summaries/global.md'] = '{> leaves/vars}'.repeat(500);
  files['prompts/text.md'] = '{> leaves/text}'.repeat(500);
  return files;
}

/** 1,990 routed prompts, each including the same 49 KiB file: 95 MiB once compiled, were it allowed. */
function manyPromptsSharing(): RepoFiles {
  const files = base();
  files['shared/rules.md'] = `Rules for {channel}.\n${'Follow the house rules of this channel. '.repeat(1250)}`;
  files['summaries/global.md'] = '{> shared/rules}';
  for (let k = 0; k < 1990; k++) files[`prompts/t${k}.md`] = `Prompt ${k}\n{> shared/rules}\n`;
  return files;
}

/** 1,990 tiny routed prompts over 5 tiny shared files: the ordinary case, at the file limit. */
function manySmallFiles(): RepoFiles {
  const files = base();
  for (let k = 0; k < 5; k++) files[`shared/s${k}.md`] = `shared ${k} for {guild_name}\n`;
  files['summaries/global.md'] = '{> shared/s0}';
  for (let k = 0; k < 1990; k++) files[`prompts/t${k}.md`] = `Prompt ${k}: {> shared/s${k % 5}} {> shared/s${(k + 1) % 5}}\n{messages}\n`;
  return files;
}
