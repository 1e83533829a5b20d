import { discoverPlugins } from '../../llm/plugin-host/discover.ts';
import type { LlmService } from '../../llm/service.ts';

/**
 * The enabled providers a server may store its own API key for: those whose
 * plugin manifest declares a `guild_overridable` secret (anthropic,
 * openai-compatible; not `local`), and any that refuse calls without a key
 * (an openai-compatible plugin renamed to e.g. "openrouter").
 *
 * LlmService does not say which providers take a key, so the manifests are
 * read here; they are a handful of small files, read on each call so that a
 * plugin reload is seen. GuildKeys checks the provider again when storing.
 */
export async function keyProviders(llm: Pick<LlmService, 'enabledProviders' | 'host'>, pluginsDir: string): Promise<string[]> {
  const enabled = llm.enabledProviders();
  const plugins = await discoverPlugins({ pluginsDir, displayRoot: pluginsDir });
  const overridable = new Set(
    plugins
      .filter((p) => p.manifest?.kind === 'provider' && p.manifest.secrets.some((s) => s.guild_overridable === true))
      .map((p) => p.name),
  );
  return enabled.filter((name) => overridable.has(name) || llm.host.getProvider(name)?.requiresKey === true);
}
