/**
 * Imports a plugin's entry module and checks that what it hands back fits
 * the contract, so a malformed plugin fails at load time with a reason
 * instead of crashing the first request that touches it.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PluginFactory, PluginInstance, PluginManifest } from './types.ts';
import { HOOK_POINTS } from './hook-points.ts';
import { PLUGIN_NAME_PATTERN } from './manifest.ts';
import { PROVIDER_SPECIFICATION_VERSION, SUPPORTED_PROVIDER_SPECIFICATIONS } from '../provider-spec/contract.ts';
import { describeError } from '../../log/error-message.ts';

/** Resolves the entry (following symlinks) and refuses anything outside the plugin folder. */
async function resolveEntry(pluginDir: string, manifest: PluginManifest): Promise<string> {
  const root = await realpath(pluginDir);
  let entry: string;
  try {
    entry = await realpath(path.resolve(root, manifest.entry));
  } catch (error) {
    throw new Error(`entry "${manifest.entry}" cannot be found (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const relative = path.relative(root, entry);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new Error(`entry "${manifest.entry}" resolves outside the plugin folder`);
  }
  return entry;
}

export async function importFactory(pluginDir: string, manifest: PluginManifest): Promise<PluginFactory> {
  const entry = await resolveEntry(pluginDir, manifest);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`entry "${manifest.entry}" failed to import: ${describeError(error)}`);
  }
  const factory = module.default;
  if (typeof factory !== 'function') {
    throw new Error(`entry "${manifest.entry}" must have a default export that is a function (got ${typeof factory})`);
  }
  return factory as PluginFactory;
}

/** Checks the factory's result against the manifest's kind; returns it typed or throws with the reason. */
export function checkInstance(value: unknown, manifest: PluginManifest): PluginInstance {
  if (value === null || typeof value !== 'object') throw new Error(`factory must return an object (got ${value === null ? 'null' : typeof value})`);
  const instance = value as Record<string, unknown>;
  if (instance.kind !== manifest.kind) {
    throw new Error(`factory returned kind "${String(instance.kind)}" but the manifest says "${manifest.kind}"`);
  }
  if (instance.close !== undefined && typeof instance.close !== 'function') throw new Error('"close" must be a function');
  switch (manifest.kind) {
    case 'provider': {
      const provider = objectField(instance, 'provider');
      // Usually the plugin's name; a plugin may take it from its settings (one folder serving "ollama", say).
      if (typeof provider.name !== 'string' || !PLUGIN_NAME_PATTERN.test(provider.name)) {
        throw new Error(`provider.name must be a lowercase identifier (got ${JSON.stringify(provider.name)})`);
      }
      if (provider.specificationVersion === undefined) {
        throw new Error(`provider.specificationVersion is missing: state the provider API the plugin was written for ("${PROVIDER_SPECIFICATION_VERSION}")`);
      }
      if (typeof provider.specificationVersion !== 'string' || !SUPPORTED_PROVIDER_SPECIFICATIONS.includes(provider.specificationVersion)) {
        throw new Error(
          `provider.specificationVersion ${JSON.stringify(provider.specificationVersion)} is not supported by this host (supported: ${SUPPORTED_PROVIDER_SPECIFICATIONS.join(', ')})`,
        );
      }
      if (!Array.isArray(provider.models)) throw new Error('provider.models must be an array');
      if (typeof provider.requiresKey !== 'boolean') throw new Error('provider.requiresKey must be a boolean');
      for (const method of ['generate', 'stream', 'health']) functionField(provider, method, 'provider');
      break;
    }
    case 'processor': {
      const processor = objectField(instance, 'processor');
      if (typeof processor.name !== 'string') throw new Error('processor.name must be a string');
      functionField(processor, 'process', 'processor');
      break;
    }
    case 'hooks': {
      const hooks = objectField(instance, 'hooks');
      for (const method of ['beforeCall', 'afterCall', ...HOOK_POINTS]) {
        if (hooks[method] !== undefined) functionField(hooks, method, 'hooks');
      }
      break;
    }
  }
  return value as PluginInstance;
}

function objectField(owner: Record<string, unknown>, field: string): Record<string, unknown> {
  const value = owner[field];
  if (value === null || typeof value !== 'object') throw new Error(`factory must return a "${field}" object`);
  return value as Record<string, unknown>;
}

function functionField(owner: Record<string, unknown>, field: string, ownerName: string): void {
  if (typeof owner[field] !== 'function') throw new Error(`${ownerName}.${field} must be a function`);
}

