/**
 * summary-webhook's settings, checked at start-up: a URL that is not https,
 * carries credentials or names a private or loopback address literally stops
 * start-up with its path in the config (addresses behind host names are
 * checked at every delivery, when they are resolved).
 */
import { z } from 'zod';
import { settingsError } from '../../src/llm/provider-spec/model-config.ts';
import { WEBHOOK_FORMATS, type WebhookFormat } from '../../src/outgoing-webhooks/formats.ts';
import { parseWebhookUrl, WebhookRefusedError } from '../../src/outgoing-webhooks/webhook-url.ts';
import type { WebhookDeliveryOptions } from '../../src/outgoing-webhooks/deliver.ts';

export const MAX_TARGETS = 10;

export interface WebhookTarget {
  url: string;
  format: WebhookFormat;
  /** Empty: every guild's summaries. */
  guilds: ReadonlySet<string>;
  /** Empty: every channel's (of those guilds). */
  channels: ReadonlySet<string>;
  /** The host name, the only part of the URL that may be shown. */
  label: string;
}

export interface SummaryWebhookSettings {
  targets: WebhookTarget[];
  includeReused: boolean;
  maxPending: number;
  delivery: Pick<WebhookDeliveryOptions, 'timeoutMs' | 'maxAttempts' | 'backoffBaseMs' | 'backoffMaxMs' | 'breaker'>;
}

const guildId = z.string().regex(/^\d{1,20}$/, 'must be a guild id (digits)');
const channelId = z.string().regex(/^\d{1,20}$/, 'must be a channel or thread id (digits)');
const format = z.enum(WEBHOOK_FORMATS as [WebhookFormat, ...WebhookFormat[]]);
const webhookUrl = z.string().superRefine((raw, ctx) => {
  try {
    parseWebhookUrl(raw);
  } catch (error) {
    // The message never repeats the URL: it may hold a token.
    ctx.addIssue({ code: 'custom', message: error instanceof WebhookRefusedError ? error.message : 'the webhook URL is invalid' });
  }
});

const schema = z.object({
  format: format.default('discord'),
  guilds: z.array(guildId).max(1_000).default([]),
  channels: z.array(channelId).max(1_000).default([]),
  targets: z
    .array(
      z.strictObject({
        url: webhookUrl,
        format: format.default('discord'),
        guilds: z.array(guildId).max(1_000).default([]),
        channels: z.array(channelId).max(1_000).default([]),
      }),
    )
    .max(MAX_TARGETS)
    .default([]),
  include_reused: z.boolean().default(false),
  timeout_ms: z.int().min(100).max(120_000).default(10_000),
  max_attempts: z.int().min(1).max(10).default(4),
  backoff_base_ms: z.int().min(0).max(600_000).default(1_000),
  backoff_max_ms: z.int().min(0).max(3_600_000).default(30_000),
  breaker_failures: z.int().min(1).max(100).default(5),
  breaker_cool_down_ms: z.int().min(1_000).max(86_400_000).default(300_000),
  max_pending: z.int().min(1).max(10_000).default(100),
});

export function parseSettings(config: Record<string, unknown>, envUrl: string | undefined): SummaryWebhookSettings {
  const parsed = schema.safeParse(config);
  if (!parsed.success) throw settingsError('summary-webhook', parsed.error);
  const s = parsed.data;
  if (s.backoff_max_ms < s.backoff_base_ms) {
    throw settingsError('summary-webhook', new z.ZodError([{ code: 'custom', path: ['backoff_max_ms'], message: 'must be at least backoff_base_ms', input: s.backoff_max_ms }]));
  }
  const targets: WebhookTarget[] = s.targets.map((t) => target(t.url, t.format, t.guilds, t.channels));
  if (envUrl !== undefined) {
    const checked = webhookUrl.safeParse(envUrl);
    // A bad SUMMARY_WEBHOOK_URL is reported under the variable's name.
    if (!checked.success) throw settingsError('summary-webhook', new z.ZodError(checked.error.issues.map((i) => ({ ...i, path: ['SUMMARY_WEBHOOK_URL'] }))));
    targets.unshift(target(envUrl, s.format, s.guilds, s.channels));
  }
  return {
    targets,
    includeReused: s.include_reused,
    maxPending: s.max_pending,
    delivery: {
      timeoutMs: s.timeout_ms,
      maxAttempts: s.max_attempts,
      backoffBaseMs: s.backoff_base_ms,
      backoffMaxMs: s.backoff_max_ms,
      breaker: { failureThreshold: s.breaker_failures, coolDownMs: s.breaker_cool_down_ms },
    },
  };
}

function target(url: string, format: WebhookFormat, guilds: readonly string[], channels: readonly string[]): WebhookTarget {
  return { url, format, guilds: new Set(guilds), channels: new Set(channels), label: new URL(url).hostname };
}
