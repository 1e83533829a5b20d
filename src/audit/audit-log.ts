import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

interface AuditEntry {
  guildId: string;
  actorId: string;
  /** e.g. `prompt-config.set`, `prompt-config.token.set`, `ai-config.budget` */
  action: string;
  /** Never a secret: callers describe what changed, not the value. */
  details?: Record<string, unknown>;
  correlationId?: string | undefined;
}

/** Who made a change: the Discord member, and the request's correlation id when there is one. */
export interface AuditActor {
  actorId: string;
  correlationId?: string | undefined;
}

/** Every configuration change an admin makes is written here. */
export async function recordAudit(db: Kysely<Database>, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      guild_id: entry.guildId,
      actor_id: entry.actorId,
      action: entry.action,
      details: JSON.stringify(entry.details ?? {}),
      correlation_id: entry.correlationId ?? null,
    })
    .execute();
}
