import { PGlite } from '@electric-sql/pglite';
import { Kysely } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import { migrateToLatest } from '/work/wt/embedded/src/db/migrate.ts';
for (let i = 0; i < 2; i++) {
let t = performance.now();
const p = await PGlite.create();
const a = performance.now() - t;
const db = new Kysely<unknown>({ dialect: new PGliteDialect(p) });
t = performance.now();
await migrateToLatest(db as never);
const b = performance.now() - t;
t = performance.now();
const dump = await p.dumpDataDir('gzip');
const c = performance.now() - t;
t = performance.now();
const q = await PGlite.create({ loadDataDir: dump });
await q.query('select 1');
const d = performance.now() - t;
const none = await p.dumpDataDir('none');
t = performance.now();
const r = await PGlite.create({ loadDataDir: none });
await r.query('select 1');
const e = performance.now() - t;
console.log({ create: a, migrate: b, dump: c, load: d, loadRaw: e, size: dump.size, rawSize: none.size });
}
