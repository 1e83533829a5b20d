import type { PluginFactory } from '../../src/llm/plugin-host/types.ts';
import type { PiiKind } from './patterns.ts';
import { PII_KINDS } from './patterns.ts';
import { createPiiProcessor } from './processor.ts';
import { createRedactor } from './redact.ts';

const piiRedactor: PluginFactory = (context) => {
  const configured = context.config.redact ?? PII_KINDS;
  if (!Array.isArray(configured)) throw new Error('setting "redact" must be a list');
  const unknown = configured.filter((kind) => !PII_KINDS.includes(kind as PiiKind));
  // Fail loudly: a typo here would otherwise silently send that kind of data unredacted.
  if (unknown.length > 0) {
    throw new Error(`setting "redact" has unknown kinds ${unknown.map((kind) => JSON.stringify(kind)).join(', ')} (known: ${PII_KINDS.join(', ')})`);
  }
  return { kind: 'processor', processor: createPiiProcessor(createRedactor(new Set(configured as PiiKind[]))) };
};

export default piiRedactor;
