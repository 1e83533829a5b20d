/**
 * A finished summary as a webhook message: the title names the channel and
 * server, the body is the summary with its citations as links to the cited
 * messages, and the footer says what made it.
 */
import type { SummaryAfterEvent } from '../../src/llm/plugin-host/hook-points.ts';
import type { WebhookFormat, WebhookMessage } from '../../src/outgoing-webhooks/formats.ts';
import { renderCitations } from '../../src/summaries/citation-render.ts';
import { discordCitationStyle } from '../../src/discord/output/citation-style.ts';

export function summaryMessage(event: SummaryAfterEvent, format: WebhookFormat): WebhookMessage {
  const where = event.guildName === null ? `#${event.channelName}` : `#${event.channelName} (${event.guildName})`;
  const prompt = event.prompt.repo === null ? 'built-in prompt' : `${event.prompt.repo}${event.prompt.commit ? `@${event.prompt.commit.slice(0, 7)}` : ''}${event.prompt.path ? `:${event.prompt.path}` : ''}`;
  const footer = [
    `${event.type} · ${event.perspective}`,
    `${event.messages} message${event.messages === 1 ? '' : 's'}`,
    `${event.provider}/${event.model}`,
    prompt,
  ].join(' · ');
  const base = { title: `Summary of ${where}`, footer, timestamp: event.finishedAt };
  if (format === 'discord') return { ...base, body: renderCitations(event.text, event.citations, discordCitationStyle) };
  // Slack has no inline masked links in plain mrkdwn text we can trust; the cited messages are listed instead.
  const links = event.citations.flatMap((c) => (c.jumpUrl === undefined ? [] : [{ label: `[${c.ref}]`, url: c.jumpUrl }]));
  return { ...base, body: event.text, links };
}
