import { parseFlags } from '../args.ts';
import { createMigrator } from '../../db/migrate.ts';
import { errorLine, type CliCommand } from '../command.ts';
import { openCliRuntime } from '../runtime.ts';
import { messageOf } from '../../log/error-message.ts';

export const migrateCommand: CliCommand = {
  name: 'migrate',
  usage: `Usage: recap migrate [--status]

Applies every pending migration from migrations/ to the configured database
(DATABASE_URL, or embedded PGlite under DATA_DIR).

Options:
  --status   list migrations and whether each is applied, change nothing
  --help     show this help`,
  async run(ctx) {
    const { values } = parseFlags(ctx.argv, { status: { type: 'boolean' } });
    const runtime = await openCliRuntime(ctx, { migrate: false });
    try {
      const migrator = createMigrator(runtime.database.db);
      if (values.status === true) {
        for (const m of await migrator.getMigrations()) {
          ctx.stdout.write(`${m.executedAt === undefined ? 'pending ' : 'applied '} ${m.name}\n`);
        }
        return 0;
      }
      const result = await migrator.migrateToLatest();
      for (const r of result.results ?? []) ctx.stdout.write(`${r.status.toLowerCase()}: ${r.migrationName}\n`);
      if (result.error !== undefined) {
        ctx.stderr.write(errorLine(`migration failed: ${messageOf(result.error)}`));
        return 1;
      }
      if ((result.results ?? []).length === 0) ctx.stdout.write('database is up to date\n');
      return 0;
    } finally {
      await runtime.close();
    }
  },
};
