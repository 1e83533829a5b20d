/**
 * The openai-compatible plugin: any chat-completions server (OpenAI, Ollama,
 * vLLM, OpenRouter). The provider's name comes from config (`name`, default
 * `openai-compatible`) rather than from the manifest, on the assumption that
 * the loader may one day instantiate this plugin twice with different config
 * blocks (say `ollama` and `openrouter`); nothing in here is keyed on the
 * manifest name, so two instances do not interfere. Until the loader does
 * that, one instance runs, and both would share the `api_key` secret
 * (OPENAI_API_KEY).
 */
import type { PluginFactory } from '../../src/llm/plugin-host/types.ts';
import { systemClock } from '../../src/resilience/clock.ts';
import { OpenAICompatibleProvider } from './provider.ts';
import { parseSettings } from './settings.ts';

const createOpenAICompatiblePlugin: PluginFactory = (ctx) => {
  const provider = new OpenAICompatibleProvider({
    settings: parseSettings(ctx.config),
    operatorKey: () => ctx.secret('api_key'),
    clock: systemClock,
  });
  return { kind: 'provider', provider };
};

export default createOpenAICompatiblePlugin;
