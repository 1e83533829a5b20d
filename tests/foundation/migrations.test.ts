import { NO_MIGRATIONS, sql } from 'kysely';
import { expect, it } from 'vitest';
import { createMigrator, migrateToLatest } from '../../src/db/migrate.ts';
import { describeEachDatabase } from '../helpers/databases.ts';

describeEachDatabase('migrations', (database) => {
  it('creates the foundation tables', async () => {
    const { rows } = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = current_schema() order by table_name`.execute(
      database().handle.db,
    );
    const names = rows.map((r) => r.table_name);
    for (const table of ['audit_log', 'guild_prompt_configs', 'guild_settings', 'secrets']) expect(names).toContain(table);
  });

  it('is idempotent: a second run applies nothing', async () => {
    expect(await migrateToLatest(database().handle.db)).toEqual([]);
  });

  it('runs every migration down and up again', async () => {
    const migrator = createMigrator(database().handle.db);
    const all = await migrator.getMigrations();
    const reset = await migrator.migrateTo(NO_MIGRATIONS);
    expect(reset.error).toBeUndefined();
    expect((await migrator.getMigrations()).every((m) => m.executedAt === undefined)).toBe(true);
    const up = await migrator.migrateToLatest();
    expect(up.error).toBeUndefined();
    expect((await migrator.getMigrations()).every((m) => m.executedAt !== undefined)).toBe(true);
    expect(all.length).toBeGreaterThan(0);
  });

  it('stores and reads a guild prompt config with timestamps', async () => {
    const db = database().handle.db;
    await db
      .insertInto('guild_prompt_configs')
      .values({
        guild_id: '1001',
        repo_url: 'https://github.com/acme/prompts',
        api_host: 'api.github.com',
        owner: 'acme',
        repo: 'prompts',
        branch: 'main',
        enabled: true,
        created_by: '7',
        updated_by: '7',
      })
      .execute();
    const row = await db.selectFrom('guild_prompt_configs').selectAll().where('guild_id', '=', '1001').executeTakeFirstOrThrow();
    expect(row.branch).toBe('main');
    expect(new Date(row.created_at).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });
});
