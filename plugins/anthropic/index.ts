/**
 * The anthropic plugin: Claude models through the Messages API. The key used
 * is the request's own (a guild's) when the router passes one, else the
 * operator's `api_key` secret (ANTHROPIC_API_KEY).
 */
import type { PluginFactory } from '../../src/llm/plugin-host/types.ts';
import { systemClock } from '../../src/resilience/clock.ts';
import { AnthropicProvider } from './provider.ts';
import { parseSettings } from './settings.ts';

const createAnthropicPlugin: PluginFactory = (ctx) => {
  const provider = new AnthropicProvider({
    settings: parseSettings(ctx.config),
    operatorKey: () => ctx.secret('api_key'),
    logger: ctx.logger,
    clock: systemClock,
  });
  return { kind: 'provider', provider };
};

export default createAnthropicPlugin;
