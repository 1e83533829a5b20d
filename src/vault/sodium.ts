import sodiumModule from 'libsodium-wrappers';

export type Sodium = typeof sodiumModule;

/** libsodium must finish loading its WebAssembly before first use. */
export async function loadSodium(): Promise<Sodium> {
  await sodiumModule.ready;
  return sodiumModule;
}
