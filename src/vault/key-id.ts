/**
 * The id `keys generate` proposes for a new master key: the UTC day, so ids
 * sort by age and say when a key was made, plus a random suffix, so two keys
 * generated on one day (by two operators, or twice by one) never share an id.
 * Ids already in RECAP_MASTER_KEYS are never proposed.
 */
export function proposeKeyId(now: Date, randomBytes: (n: number) => Uint8Array, taken: ReadonlySet<string>): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '');
  for (;;) {
    const id = `k${day}-${Buffer.from(randomBytes(4)).toString('hex')}`;
    if (!taken.has(id)) return id;
  }
}

/**
 * The ids named in a RECAP_MASTER_KEYS value, read leniently: a malformed
 * entry elsewhere must not stop an operator from generating a replacement key.
 */
export function keyIdsIn(masterKeys: string | undefined): Set<string> {
  const ids = new Set<string>();
  for (const entry of (masterKeys ?? '').split(/[\s,]+/)) {
    const colon = entry.indexOf(':');
    if (colon > 0) ids.add(entry.slice(0, colon));
  }
  return ids;
}
