import { Parser, type CST } from 'yaml';

/**
 * Offset of the first collection nested deeper than `limit`, or null.
 *
 * The `yaml` package composes documents recursively, and a few thousand
 * levels of `- - - …` abort Node itself (not a catchable exception). This
 * walks the flat token stream with an explicit stack, so hostile YAML is
 * refused before the recursive step runs.
 */
export function firstTooDeep(text: string, limit: number): number | null {
  const stack: Array<[CST.Token | null | undefined, number]> = [];
  for (const token of new Parser().parse(text)) stack.push([token, 0]);
  while (stack.length > 0) {
    const [token, depth] = stack.pop()!;
    if (token === null || token === undefined) continue;
    if (token.type === 'document') {
      stack.push([token.value, depth]);
    } else if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      if (depth + 1 > limit) return token.offset;
      for (const item of token.items) stack.push([item.key, depth + 1], [item.value, depth + 1]);
    }
  }
  return null;
}
