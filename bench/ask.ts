/**
 * `npm run bench -- ask [--runs 50]`: the cost of choosing the channel
 * history that goes with one chat question (BM25 ranking, neighbours,
 * numbering, the transcript block), at the bound a question can reach:
 * 3 channels of 500 messages each.
 *
 *   ask-retrieval-typical-p50   messages of chat length (one or two sentences)
 *   ask-retrieval-typical-p99
 *   ask-retrieval-hostile-max   every message 4,000 characters of distinct words, the question 4,000 characters
 *   ask-retrieval-block-tokens  the largest transcript block seen (its bound is 3,000 tokens)
 */
import { retrieveContext, type ChannelHistory } from '../src/chat/channel-context.ts';
import type { Message } from '../src/conversation/model.ts';
import { prepareConversation } from '../src/conversation/prepare.ts';
import { estimateTokens } from '../src/llm/provider-spec/contract.ts';
import { quantile, report } from './_report.ts';

const WORDS = 'release migration deploy friday schema review budget staging cache login timeout docs wiki retro sprint rollout canary incident'.split(' ');

function channel(index: number, text: (i: number) => string): ChannelHistory {
  const channelId = String(800_000_000_000_000_000n + BigInt(index));
  const messages: Message[] = Array.from({ length: 500 }, (_, i) => ({
    id: String(810_000_000_000_000_000n + BigInt(index * 1_000 + i)),
    author: { id: String(700_000_000_000_000_000n + BigInt(i % 7)), displayName: `member${i % 7}`, bot: false },
    timestamp: Date.UTC(2026, 11, 1) + i * 60_000,
    content: text(i),
    attachments: [],
    embeds: [],
    stickers: [],
    reactions: [],
    mentions: [],
  }));
  const prepared = prepareConversation({ source: { channelId, channelName: `c${index}` }, messages, names: { users: {}, channels: {}, roles: {} } });
  return { channelId, channelName: `c${index}`, prepared };
}

const chatLength = (i: number) => `the ${WORDS[i % WORDS.length]} and the ${WORDS[(i * 7) % WORDS.length]} look fine to me, ${i % 5 === 0 ? 'ship it on friday' : 'any news?'}`;
const hostileText = (i: number) => Array.from({ length: 600 }, (_, k) => `w${(i * 600 + k).toString(36)}`).join(' ').slice(0, 4_000);

export async function run(args: string[]): Promise<void> {
  const runsAt = args.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 50;
  const typical = [0, 1, 2].map((i) => channel(i, chatLength));
  const hostile = [3, 4, 5].map((i) => channel(i, hostileText));
  const hostileQuestion = Array.from({ length: 700 }, (_, k) => `w${(k * 997).toString(36)}`).join(' ').slice(0, 4_000);

  let blockTokens = 0;
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const started = performance.now();
    const context = retrieveContext('what did we decide about the release on friday?', typical);
    times.push(performance.now() - started);
    blockTokens = Math.max(blockTokens, estimateTokens(context.block));
  }
  let hostileMax = 0;
  for (let r = 0; r < Math.max(3, Math.floor(runs / 10)); r++) {
    const started = performance.now();
    const context = retrieveContext(hostileQuestion, hostile);
    hostileMax = Math.max(hostileMax, performance.now() - started);
    blockTokens = Math.max(blockTokens, estimateTokens(context.block));
  }
  report('ask-retrieval-typical-p50', quantile(times, 0.5), 'ms');
  report('ask-retrieval-typical-p99', quantile(times, 0.99), 'ms');
  report('ask-retrieval-hostile-max', hostileMax, 'ms');
  report('ask-retrieval-block-tokens', blockTokens, 'tokens');
}
