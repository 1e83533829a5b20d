import type { Clock } from '../resilience/clock.ts';
import type { SnapshotIdentity } from './snapshot-store.ts';

/** How long one signed delivery from a repository keeps its snapshots on the webhook TTL. */
export const WEBHOOK_TRUST_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Repositories whose pushes reach this deployment as signed webhooks: their
 * snapshots are revalidated on a much longer TTL, since a push ends
 * freshness at once anyway.
 */
export interface WebhookTrust {
  /** A delivery signed with the operator's secret came from this repository at `at`. */
  mark(owner: string, repo: string, at: number): void;
  /** The TTL for a repository's snapshots; undefined: the ordinary one. */
  ttlFor(identity: Pick<SnapshotIdentity, 'owner' | 'repo'>): number | undefined;
}

export function createWebhookTrust(clock: Clock, webhookTtlMs: number): WebhookTrust {
  const since = new Map<string, number>();
  const name = (owner: string, repo: string): string => `${owner}/${repo}`.toLowerCase();
  return {
    mark(owner, repo, at) {
      since.set(name(owner, repo), at);
    },
    ttlFor(identity) {
      const seen = since.get(name(identity.owner, identity.repo));
      return seen !== undefined && clock.now() - seen < WEBHOOK_TRUST_MS ? webhookTtlMs : undefined;
    },
  };
}
