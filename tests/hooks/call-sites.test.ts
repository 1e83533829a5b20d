/**
 * The hook points where the core calls them: the real summarizer, chat and
 * prompt resolver (bundled prompts, real router, a provider that answers
 * from what it was sent) with plugin hooks passed in through the seam.
 */
import type { Kysely } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { createChat } from '../../src/chat/chat.ts';
import { prepareConversation } from '../../src/conversation/prepare.ts';
import type { Database } from '../../src/db/schema.ts';
import { createPluginHooks } from '../../src/hooks/plugin-hooks.ts';
import { withPromptHooks } from '../../src/hooks/prompt-hooks.ts';
import type { HookEvents, HookPoint } from '../../src/llm/plugin-host/hook-points.ts';
import type { HookEntry } from '../../src/llm/plugin-host/plugin-set.ts';
import type { PromptResolver } from '../../src/prompts/resolver.ts';
import { systemClock } from '../../src/resilience/clock.ts';
import { KyselyChatMemoryStore, KyselySummaryStore } from '../../src/summaries/store.ts';
import { createSummarizer } from '../../src/summaries/summarize.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { CHANNEL, EchoProvider, GUILD, bundledResolver, conversationOf, messageAt, quietLogger, testRouter } from '../summaries/support.ts';

type Seen = { [P in HookPoint]?: Array<HookEvents[P]> };

describeEachDatabase('hook points in the summarizer, chat and prompt resolution', (database) => {
  let db: Kysely<Database>;
  let bundled: PromptResolver;
  let seq = 0;

  beforeAll(async () => {
    db = database().handle.db;
    bundled = await bundledResolver(db);
  });

  function wiring(entries: HookEntry[]) {
    const provider = new EchoProvider('echo', 'echo-large', 100_000);
    const routing = testRouter([provider], [{ provider: 'echo', model: 'echo-large' }]);
    const hooks = createPluginHooks({ entries: () => entries, logger: quietLogger });
    const resolver = withPromptHooks(bundled, hooks);
    const summarizer = createSummarizer({
      resolver,
      router: routing.router,
      contextWindowFor: routing.contextWindowFor,
      store: new KyselySummaryStore(db),
      clock: systemClock,
      logger: quietLogger,
      hooks,
    });
    const chat = createChat({ resolver, router: routing.router, memory: new KyselyChatMemoryStore(db), clock: systemClock, logger: quietLogger, hooks });
    return { provider, summarizer, chat };
  }

  function observer(seen: Seen, priority = 0): HookEntry {
    const keep = <P extends HookPoint>(point: P) => (event: HookEvents[P]) => void ((seen[point] ??= []) as Array<HookEvents[P]>).push(event);
    return {
      plugin: 'observer',
      hooks: {
        priority,
        'summary.before': keep('summary.before'),
        'summary.after': keep('summary.after'),
        'chat.before': keep('chat.before'),
        'chat.after': keep('chat.after'),
        'prompt.resolved': keep('prompt.resolved'),
      },
    };
  }

  it('shows a summary to prompt.resolved, summary.before and summary.after, adding notes and appended instructions', async () => {
    const seen: Seen = {};
    const { provider, summarizer } = wiring([
      observer(seen),
      {
        plugin: 'house-rules',
        hooks: {
          'prompt.resolved': () => ({ append: 'Write dates as YYYY-MM-DD.' }),
          'summary.before': () => ({ notes: ['Summaries of this server are archived.'] }),
        },
      },
    ]);
    const messages = [messageAt(1, 'is the release ready?'), messageAt(2, 'tests are green, we ship friday')];
    const correlationId = `hooks${++seq}`;
    const result = await summarizer.summarize(prepareConversation(conversationOf(messages)), {
      guildId: GUILD, guildName: 'Test Guild', channelId: CHANNEL, channelName: 'dev-chat', type: 'brief', userId: '100000000000000001', correlationId,
    });

    expect(provider.calls[0]!.system).toContain('Write dates as YYYY-MM-DD.');
    expect(result.warnings).toContain('Summaries of this server are archived.');
    expect(seen['prompt.resolved']).toEqual([
      expect.objectContaining({ guildId: GUILD, category: 'discussion', type: 'brief', level: 'default', repo: 'bundled', path: 'summaries/discussion/brief.md' }),
    ]);
    expect(seen['prompt.resolved']![0]!.content).not.toContain('YYYY-MM-DD');
    expect(seen['summary.before']).toEqual([
      { guildId: GUILD, channelId: CHANNEL, channelName: 'dev-chat', type: 'brief', perspective: 'general', category: 'discussion', locale: null, messageCount: 2, userId: '100000000000000001', correlationId },
    ]);
    const after = seen['summary.after']![0]!;
    expect(after).toMatchObject({
      guildId: GUILD, guildName: 'Test Guild', channelId: CHANNEL, channelName: 'dev-chat', summaryId: result.summaryId, text: result.text,
      provider: 'echo', model: 'echo-large', messages: 2, chunks: 1, reused: false, type: 'brief', correlationId,
      prompt: { level: 'default', repo: 'bundled', commit: result.prompt.commit, path: 'summaries/discussion/brief.md' },
    });
    expect(after.citations).toEqual(result.citations);
    expect(Object.isFrozen(after) && Object.isFrozen(after.citations)).toBe(true);

    // The identical request is answered from storage: summary.after sees it marked reused.
    await summarizer.summarize(prepareConversation(conversationOf(messages)), {
      guildId: GUILD, guildName: 'Test Guild', channelId: CHANNEL, channelName: 'dev-chat', type: 'brief', correlationId: `hooks${++seq}`,
    });
    expect(provider.calls).toHaveLength(1);
    expect(seen['summary.after']!.map((e) => e.reused)).toEqual([false, true]);
  });

  it('summarizes as usual when every hook fails or hangs', async () => {
    const failing: HookEntry = {
      plugin: 'broken',
      hooks: {
        timeoutMs: 50,
        'prompt.resolved': () => { throw new Error('broken'); },
        'summary.before': () => new Promise(() => undefined),
        'summary.after': async () => { throw new Error('broken'); },
      },
    };
    const { summarizer } = wiring([failing]);
    const result = await summarizer.summarize(prepareConversation(conversationOf([messageAt(1, 'deploy at noon'), messageAt(2, 'agreed')])), {
      guildId: GUILD, channelId: `${CHANNEL}9`, channelName: 'ops', type: 'brief', correlationId: `hooks${++seq}`,
    });
    expect(result.text).not.toBe('');
    expect(result.reused).toBe(false);
  });

  it('shows a question to chat.before and the answer to chat.after; notes go with the answer', async () => {
    const seen: Seen = {};
    const { chat } = wiring([observer(seen), { plugin: 'notice', hooks: { 'chat.before': () => ({ notes: ['Answers are logged.'] }) } }]);
    const correlationId = `chat${++seq}`;
    const answer = await chat.ask({ guildId: GUILD, channelId: '800000000000000009', userId: '100000000000000002', userName: 'Bob', question: '  what shipped?  ', correlationId });
    expect(answer.warnings).toEqual(['Answers are logged.']);
    expect(seen['chat.before']).toEqual([{ guildId: GUILD, channelId: '800000000000000009', userId: '100000000000000002', question: 'what shipped?', correlationId }]);
    expect(seen['chat.after']).toEqual([
      {
        guildId: GUILD, channelId: '800000000000000009', userId: '100000000000000002', question: 'what shipped?', answer: answer.text,
        provider: 'echo', model: 'echo-large', costUsd: answer.costUsd, citations: [], correlationId,
      },
    ]);
    expect(seen['prompt.resolved']?.[0]).toMatchObject({ category: 'chat', type: 'chat', path: 'assistant/default.md' });
  });
});
