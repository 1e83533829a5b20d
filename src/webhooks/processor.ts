import type { PromptConfig, PromptEngine, PushGroup } from '../prompts/engine.ts';
import type { Clock } from '../resilience/clock.ts';
import type { ConfigHookStore } from './config-hooks.ts';
import { branchOf, type DeliveryPayload, type PushEssentials, type RepositoryEssentials } from './payloads.ts';
import type { RefreshLimiter } from './refresh-limiter.ts';

/** The parts of the prompt engine webhooks drive. */
export type WebhookEngine = Pick<PromptEngine, 'config' | 'configsReading' | 'receivePush' | 'applyPush' | 'applyRepositoryEvent' | 'applyWebhookPing'>;

export type HookLookup = Pick<ConfigHookStore, 'byId' | 'recordDelivery'>;

export interface ProcessorDeps {
  engine: WebhookEngine;
  hooks: HookLookup;
  clock: Clock;
  /** Delivery-caused refreshes, per repository. */
  limiter: RefreshLimiter<PushGroup>;
  /** Whether a commit was replaced on the branch by a push already processed for the same configs. */
  replacedInPush: (push: { repo: string; ref: string; sha: string; hookId: string | undefined }) => Promise<boolean>;
}

/**
 * Does the work of a queued delivery; returns what it did, for the
 * delivery's row. Throws only when the work should be retried (the
 * database is unavailable): GitHub failures are recorded as sync errors,
 * since the next resolution retries GitHub anyway.
 */
export type DeliveryProcessor = (payload: DeliveryPayload) => Promise<string>;

export function createDeliveryProcessor(deps: ProcessorDeps): DeliveryProcessor {
  return (payload) => (payload.kind === 'push' ? processPush(deps, payload) : processRepositoryEvent(deps, payload));
}

/**
 * The configs a delivery may change. The operator's webhook (its secret is
 * the operator's alone) speaks for every config of the repository; a
 * per-config hook only for its own config, and only when that config reads
 * the repository the body names.
 */
export async function configsForDelivery(
  engine: WebhookEngine,
  hooks: HookLookup,
  delivery: { owner: string; repo: string; hookId?: string | undefined },
): Promise<PromptConfig[]> {
  if (delivery.hookId === undefined) return engine.configsReading(delivery.owner, delivery.repo);
  const hook = await hooks.byId(delivery.hookId);
  if (hook === undefined) return [];
  const config = await engine.config(hook.guildId);
  if (config === null || !readsRepository(config, delivery.owner, delivery.repo)) return [];
  return [config];
}

export function readsRepository(config: Pick<PromptConfig, 'owner' | 'repo'>, owner: string, repo: string): boolean {
  return config.owner.toLowerCase() === owner.toLowerCase() && config.repo.toLowerCase() === repo.toLowerCase();
}

/** The configs a push to this ref concerns. */
export async function configsForPush(
  engine: WebhookEngine,
  hooks: HookLookup,
  push: Pick<PushEssentials, 'owner' | 'repo' | 'ref' | 'hookId'>,
): Promise<PromptConfig[]> {
  const branch = branchOf(push.ref);
  if (branch === undefined) return [];
  const configs = await configsForDelivery(engine, hooks, push);
  return configs.filter((c) => c.enabled && c.branch === branch);
}

async function processPush(deps: ProcessorDeps, push: PushEssentials): Promise<string> {
  const { engine, clock } = deps;
  const branch = branchOf(push.ref);
  const configs = await configsForPush(engine, deps.hooks, push);
  const name = `${push.owner}/${push.repo}`;
  if (branch === undefined || configs.length === 0) {
    return `ignored: ${push.hookId === undefined ? 'no guild uses' : "this webhook's config does not use"} ${name}@${branch ?? push.ref} any more`;
  }
  if (push.hookId !== undefined) await deps.hooks.recordDelivery(push.hookId, new Date(clock.now()), true);
  const { work, skipped } = await engine.receivePush({
    owner: push.owner,
    repo: push.repo,
    after: push.after,
    before: push.before,
    deleted: push.deleted,
    operator: push.hookId === undefined,
    configs,
    replaced: () => deps.replacedInPush({ repo: name, ref: push.ref, sha: push.after, hookId: push.hookId }),
  });
  if (work.size === 0) return `ignored: ${skipped.join('; ')}`.slice(0, 2000);

  const limited = await deps.limiter.submit(name.toLowerCase(), work, (merged) => engine.applyPush(push.owner, push.repo, merged));
  const noted = skipped.length === 0 ? '' : `; ${skipped.join('; ')}`;
  if (limited.kind === 'coalesced') {
    return `push to ${name}@${branch} for ${configs.length} guild(s): merged into the refresh already scheduled for ${name}${noted}`.slice(0, 2000);
  }
  const delayed = limited.delayed ? ' (after the per-repository refresh interval)' : '';
  return `push to ${name}@${branch} for ${configs.length} guild(s)${delayed}: ${limited.result.join('; ')}${noted}`.slice(0, 2000);
}

async function processRepositoryEvent(deps: ProcessorDeps, event: RepositoryEssentials): Promise<string> {
  const { engine } = deps;
  const configs = await configsForDelivery(engine, deps.hooks, event);
  const old = `${event.owner}/${event.repo}`;
  if (configs.length === 0) return `ignored: ${event.hookId === undefined ? 'no guild uses' : "this webhook's config does not use"} ${old} any more`;
  if (event.hookId !== undefined) await deps.hooks.recordDelivery(event.hookId, new Date(deps.clock.now()), true);
  const message = describeRepositoryEvent(event);
  await engine.applyRepositoryEvent({ owner: event.owner, repo: event.repo, configs, operator: event.hookId === undefined, message });
  return `${message} (${configs.length} guild(s))`;
}

/** `<action>: <details>`, shown by `/prompt-config status`: what happened and what to do. */
function describeRepositoryEvent(event: RepositoryEssentials): string {
  const old = `${event.owner}/${event.repo}`;
  const now = `${event.newOwner ?? event.owner}/${event.newRepo ?? event.repo}`;
  switch (event.action) {
    case 'renamed':
      return `renamed: ${old} is now ${now} on GitHub; run /prompt-config set with ${now} to follow it`;
    case 'transferred':
      return `transferred: ${old} now belongs to ${event.newOwner ?? '?'} (${now}); run /prompt-config set with ${now} to follow it`;
    case 'deleted':
      return `deleted: ${old} was deleted on GitHub; once GitHub confirms it, this server uses the bundled prompts; set another repository or remove the config`;
  }
}
