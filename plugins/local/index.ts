import type { PluginFactory } from '../../src/llm/plugin-host/types.ts';
import { createLocalProvider } from './provider.ts';

const local: PluginFactory = () => ({ kind: 'provider', provider: createLocalProvider() });

export default local;
