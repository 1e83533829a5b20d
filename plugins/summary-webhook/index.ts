/**
 * summary-webhook: on `summary.after` it queues the finished summary for
 * each matching target and returns at once; deliveries run in the
 * background (bounded by `max_pending`) through the SSRF-safe delivery in
 * src/outgoing-webhooks/, and one given up is told to the guild's admins
 * through `ctx.notices`. The URL is a credential: logs name only its host.
 *
 * Who reads a webhook's channel is beyond the bot's sight, so which
 * summaries may go there is the operator's call, made in the config per
 * target (`guilds`, `channels`); summaries answered from storage are not
 * sent again unless `include_reused`.
 */
import type { PluginContext, PluginFactory, PluginInstance } from '../../src/llm/plugin-host/types.ts';
import type { SummaryAfterEvent } from '../../src/llm/plugin-host/hook-points.ts';
import { createWebhookDelivery, type WebhookDeliveryOptions } from '../../src/outgoing-webhooks/deliver.ts';
import { webhookPayload } from '../../src/outgoing-webhooks/formats.ts';
import { summaryMessage } from './message.ts';
import { parseSettings, type WebhookTarget } from './settings.ts';

const CLOSE_GRACE_MS = 1_000;

/** What tests may add to the delivery; the plugins config cannot reach it. */
export type DeliveryOverrides = Pick<WebhookDeliveryOptions, 'unsafeTestOnly' | 'resolve' | 'sleep' | 'clock' | 'random'>;

export function createSummaryWebhook(ctx: PluginContext, overrides: DeliveryOverrides = {}): PluginInstance {
  const settings = parseSettings(ctx.config, ctx.secret('url'));
  const delivery = createWebhookDelivery({ ...settings.delivery, ...overrides });
  const { logger, notices } = ctx;
  const pending = new Set<Promise<void>>();
  // One guild's burst of summaries must not take every slot from the others.
  const perGuildLimit = Math.max(1, Math.ceil(settings.maxPending / 10));
  const pendingByGuild = new Map<string, number>();
  const stop = new AbortController();

  async function send(target: WebhookTarget, index: number, event: SummaryAfterEvent): Promise<void> {
    const payload = webhookPayload(target.format, summaryMessage(event, target.format));
    const result = await delivery.deliver(target.url, payload, { signal: stop.signal });
    if (result.ok) {
      logger.debug({ target: target.label, attempts: result.attempts, correlationId: event.correlationId }, 'summary delivered to webhook');
      return;
    }
    if (stop.signal.aborted) return;
    logger.warn({ target: target.label, attempts: result.attempts, reason: result.reason, guildId: event.guildId, correlationId: event.correlationId }, 'summary webhook delivery given up');
    if (event.guildId === null || notices === undefined) return;
    await notices
      .post({
        guildId: event.guildId,
        kind: 'webhook-given-up',
        cause: `summary-webhook:${index}:${target.label}`,
        title: `A summary could not be delivered to the webhook at ${target.label}`,
        lines: [
          `The summary of #${event.channelName} was not delivered: ${result.reason}.`,
          result.permanent ? 'Retrying would not help: check the webhook (it may have been deleted).' : 'Later summaries are still sent; this one is not retried.',
        ],
      })
      .catch((err: unknown) => logger.warn({ err }, 'could not post the webhook notice'));
  }

  return {
    kind: 'hooks',
    hooks: {
      // Late and short: queuing takes no time, and other plugins' hooks see the summary first.
      priority: 100,
      timeoutMs: 1_000,
      'summary.after'(event) {
        if (event.reused && !settings.includeReused) return;
        settings.targets.forEach((target, index) => {
          if (target.guilds.size > 0 && (event.guildId === null || !target.guilds.has(event.guildId))) return;
          if (target.channels.size > 0 && !target.channels.has(event.channelId)) return;
          const guild = event.guildId ?? '';
          const guildPending = pendingByGuild.get(guild) ?? 0;
          if (pending.size >= settings.maxPending || guildPending >= perGuildLimit) {
            logger.warn(
              { target: target.label, pending: pending.size, guildPending, guildId: event.guildId, correlationId: event.correlationId },
              'too many webhook deliveries in flight; this summary is not sent',
            );
            return;
          }
          pendingByGuild.set(guild, guildPending + 1);
          const job: Promise<void> = send(target, index, event)
            .catch((err: unknown) => logger.error({ err, target: target.label }, 'summary webhook delivery failed unexpectedly'))
            .finally(() => {
              pending.delete(job);
              const left = (pendingByGuild.get(guild) ?? 1) - 1;
              if (left <= 0) pendingByGuild.delete(guild);
              else pendingByGuild.set(guild, left);
            });
          pending.add(job);
        });
      },
    },
    async close() {
      // A delivery about to finish gets a moment (a one-off CLI summary closes right after it is made).
      if (pending.size > 0) await Promise.race([Promise.allSettled([...pending]), new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref())]);
      if (pending.size > 0) logger.warn({ pending: pending.size }, 'closing with webhook deliveries in flight; they are cancelled');
      stop.abort();
      await Promise.allSettled([...pending]);
    },
  };
}

const summaryWebhook: PluginFactory = (ctx) => createSummaryWebhook(ctx);
export default summaryWebhook;
