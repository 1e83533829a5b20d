/**
 * A model that counts a part as longer than the estimate ("prompt is too
 * long" from the provider) makes map-reduce split that part and carry on,
 * rather than fail the summary.
 */
import type { Kysely } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { prepareConversation } from '../../src/conversation/prepare.ts';
import type { Database } from '../../src/db/schema.ts';
import { KyselySummaryStore } from '../../src/summaries/store.ts';
import { createSummarizer } from '../../src/summaries/summarize.ts';
import type { PromptResolver } from '../../src/prompts/resolver.ts';
import { systemClock } from '../../src/resilience/clock.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { CHANNEL, EchoProvider, GUILD, bundledResolver, longConversation, quietLogger, testRouter } from './support.ts';

describeEachDatabase('map-reduce on "prompt is too long"', (database) => {
  let db: Kysely<Database>;
  let resolver: PromptResolver;

  beforeAll(async () => {
    db = database().handle.db;
    resolver = await bundledResolver(db);
  });

  it('halves a part the provider refuses as too long and summarizes every message', async () => {
    // The server accepts 6,000 tokens but the model is declared with 24,000: the plan's parts are too big for it.
    const provider = new EchoProvider('echo', 'echo-overstated', 6_000);
    (provider.models as unknown as Array<{ contextWindow: number }>)[0]!.contextWindow = 24_000;
    const routing = testRouter([provider], [{ provider: 'echo', model: 'echo-overstated' }]);
    const engine = createSummarizer({
      resolver,
      router: routing.router,
      contextWindowFor: routing.contextWindowFor,
      store: new KyselySummaryStore(db),
      clock: systemClock,
      logger: quietLogger,
    });
    const prepared = prepareConversation(longConversation(400, 300));

    const result = await engine.summarize(prepared, {
      guildId: GUILD,
      guildName: 'Test Guild',
      channelId: CHANNEL,
      channelName: 'dev-chat',
      type: 'brief',
      correlationId: 'too-long-split',
    });

    expect(result.warnings.some((w) => /split into smaller ones/.test(w))).toBe(true);
    const mapped = provider.callsFor('summarize-map').flatMap((c) => c.refs);
    // Every message reached a map call that succeeded, once.
    expect(new Set(mapped)).toEqual(new Set(prepared.messages.map((m) => m.ref)));
    expect(mapped).toHaveLength(prepared.messages.length);
    expect(result.chunks).toBeGreaterThan(1);
  });
});
