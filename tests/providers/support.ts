/** Helpers shared by the provider plugin tests: what the loader does, and stream collection. */
import { readFile } from 'node:fs/promises';
import { expect } from 'vitest';
import { parse } from 'yaml';
import { ProviderError, type StreamEvent } from '../../src/llm/provider-spec/contract.ts';
import type { PluginContext, PluginManifest } from '../../src/llm/plugin-host/types.ts';

export interface LogEntry {
  level: string;
  obj: object;
  msg?: string;
}

export async function loadManifest(plugin: string): Promise<PluginManifest> {
  const text = await readFile(new URL(`../../plugins/${plugin}/plugin.yaml`, import.meta.url), 'utf8');
  return parse(text) as PluginManifest;
}

/** What the loader does: manifest defaults under the given settings, secrets from a table. */
export function contextFor(
  manifest: PluginManifest,
  config: Record<string, unknown>,
  secrets: Record<string, string | undefined>,
  logs: LogEntry[],
): PluginContext {
  const defaults = Object.fromEntries(
    Object.entries(manifest.config)
      .filter(([, spec]) => spec.default !== undefined)
      .map(([name, spec]) => [name, spec.default]),
  );
  const log = (level: string) => (obj: object, msg?: string) => {
    logs.push({ level, obj, ...(msg !== undefined ? { msg } : {}) });
  };
  return {
    manifest,
    config: { ...defaults, ...config },
    secret: (name) => secrets[name],
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
  };
}

/** Text and finish events in `events`; the optional interim usage reports apart, in `usage`. */
export async function collect(
  stream: AsyncIterable<StreamEvent>,
): Promise<{ events: StreamEvent[]; usage: StreamEvent[]; error?: unknown }> {
  const events: StreamEvent[] = [];
  const usage: StreamEvent[] = [];
  try {
    for await (const event of stream) (event.type === 'usage' ? usage : events).push(event);
    return { events, usage };
  } catch (error) {
    return { events, usage, error };
  }
}

export async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

