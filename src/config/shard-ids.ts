/**
 * SHARD_IDS: the shards one host runs out of SHARD_COUNT, written as ids and
 * ranges (`0-3`, `0,2,5`, `0-1,6-7`). Returns the ids in ascending order, or
 * the reason the text is not such a list.
 */
export function parseShardIds(text: string, count: number): { ids: number[] } | { reason: string } {
  const ids = new Set<number>();
  for (const raw of text.split(',')) {
    const part = raw.trim();
    const match = /^(\d{1,5})(?:\s*-\s*(\d{1,5}))?$/.exec(part);
    if (match === null) return { reason: `expected shard ids and ranges such as 0-3 or 0,2,5 (got ${JSON.stringify(text)})` };
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (to < from) return { reason: `the range ${from}-${to} runs backwards; write ${to}-${from}` };
    if (to >= count) return { reason: `shard ${to} does not exist: SHARD_COUNT is ${count}, so ids run from 0 to ${count - 1}` };
    for (let id = from; id <= to; id++) {
      if (ids.has(id)) return { reason: `shard ${id} is listed twice` };
      ids.add(id);
    }
  }
  return { ids: [...ids].sort((a, b) => a - b) };
}
