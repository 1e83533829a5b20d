/**
 * A guild's mapping from Discord channel categories to prompt categories,
 * kept in `guild_settings.settings.categoryMap` as `{ "<category id or
 * name>": "<prompt category>" }` (an admin command edits it). Only read here:
 * a missing or malformed map means no mapping.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { PROMPT_CATEGORY } from '../../prompts/routed-values.ts';

const CATEGORY_MAP_KEY = 'categoryMap';

export type CategoryMap = ReadonlyMap<string, string>;

export async function readCategoryMap(db: Kysely<Database>, guildId: string): Promise<CategoryMap> {
  const row = await db.selectFrom('guild_settings').select('settings').where('guild_id', '=', guildId).executeTakeFirst();
  const settings = typeof row?.settings === 'string' ? safeJson(row.settings) : row?.settings;
  const raw = isRecord(settings) ? settings[CATEGORY_MAP_KEY] : undefined;
  const map = new Map<string, string>();
  if (!isRecord(raw)) return map;
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== 'string') continue;
    const category = value.trim().toLowerCase();
    if (PROMPT_CATEGORY.test(category)) map.set(key.trim().toLowerCase(), category);
  }
  return map;
}

/** The prompt category for a Discord category, by id first, then by name (case-insensitive). */
export function mappedCategory(map: CategoryMap, discordCategory: { id: string; name: string } | null): string | undefined {
  if (discordCategory === null) return undefined;
  return map.get(discordCategory.id) ?? map.get(discordCategory.name.trim().toLowerCase());
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Sets (or, with `promptCategory` null, removes) one entry of the guild's
 * map, keyed by the Discord category's id; the guild's other settings are
 * kept. The row is locked so two admins' edits do not overwrite each other.
 */
export async function writeCategoryMapEntry(
  db: Kysely<Database>,
  change: { guildId: string; discordCategoryId: string; promptCategory: string | null; actorId: string; now: Date },
): Promise<CategoryMap> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('guild_settings').select('settings').where('guild_id', '=', change.guildId).forUpdate().executeTakeFirst();
    const parsed = typeof row?.settings === 'string' ? safeJson(row.settings) : row?.settings;
    const settings: Record<string, unknown> = isRecord(parsed) ? { ...parsed } : {};
    const current = isRecord(settings[CATEGORY_MAP_KEY]) ? { ...(settings[CATEGORY_MAP_KEY] as Record<string, unknown>) } : {};
    if (change.promptCategory === null) delete current[change.discordCategoryId];
    else current[change.discordCategoryId] = change.promptCategory;
    settings[CATEGORY_MAP_KEY] = current;
    await trx
      .insertInto('guild_settings')
      .values({ guild_id: change.guildId, settings: JSON.stringify(settings), updated_at: change.now, updated_by: change.actorId })
      .onConflict((oc) => oc.column('guild_id').doUpdateSet({ settings: JSON.stringify(settings), updated_at: change.now, updated_by: change.actorId }))
      .execute();
    return readCategoryMap(trx, change.guildId);
  });
}
