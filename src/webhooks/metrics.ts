import { Counter, type Registry } from 'prom-client';

export type DeliveryOutcome = 'accepted' | 'duplicate' | 'bad_signature' | 'ignored' | 'error';
export type ProcessingOutcome = 'done' | 'retry' | 'gave_up';

export interface WebhookMetrics {
  delivery(event: string, outcome: DeliveryOutcome): void;
  processed(event: string, outcome: ProcessingOutcome): void;
}

/** Event names come from an unauthenticated header: only these become label values. */
const KNOWN_EVENTS = new Set(['push', 'ping', 'repository']);

function eventLabel(event: string | undefined): string {
  return event !== undefined && KNOWN_EVENTS.has(event) ? event : 'other';
}

export function createWebhookMetrics(registry: Registry): WebhookMetrics {
  const deliveries = counter(registry, 'recap_webhook_deliveries_total', 'GitHub webhook deliveries by event and how they were answered.');
  const processing = counter(registry, 'recap_webhook_processing_total', 'Queued GitHub webhook deliveries by event and processing outcome.');
  return {
    delivery: (event, outcome) => deliveries.labels(eventLabel(event), outcome).inc(),
    processed: (event, outcome) => processing.labels(eventLabel(event), outcome).inc(),
  };
}

/** One registry may see several mounts (tests rebuilding the app on one registry). */
function counter(registry: Registry, name: string, help: string): Counter<'event' | 'outcome'> {
  const existing = registry.getSingleMetric(name);
  if (existing !== undefined) return existing as Counter<'event' | 'outcome'>;
  return new Counter({ name, help, labelNames: ['event', 'outcome'], registers: [registry] });
}
