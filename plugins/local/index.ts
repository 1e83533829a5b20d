import type { PluginFactory } from '../../src/plugins/types.ts';
import { createLocalProvider } from './provider.ts';

const local: PluginFactory = () => ({ kind: 'provider', provider: createLocalProvider() });

export default local;
