/** The thread of `measureSqlite` (measure.ts): measures one file and posts what it found. */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './database.ts';
import type { Measured, MeasureRequest } from './measure.ts';

const { file, queries } = workerData as MeasureRequest;
try {
  const db = openDatabase(file, { synchronous: 'normal', readonly: true, cacheMiB: 2 });
  try {
    const owner = new Map(
      db
        .prepare<[], { name: string; tbl_name: string }>('SELECT name, tbl_name FROM sqlite_master')
        .all()
        .map((r) => [r.name, r.tbl_name]),
    );
    const tables: Record<string, number> = {};
    for (const row of db
      .prepare<[], { name: string; bytes: number }>(
        'SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name',
      )
      .all()) {
      const table = owner.get(row.name) ?? row.name;
      tables[table] = (tables[table] ?? 0) + row.bytes;
    }
    const measured: Measured = {
      tables,
      rows: queries.map((sql) => db.prepare<[], Record<string, unknown>>(sql).all()),
    };
    parentPort!.postMessage(measured);
  } finally {
    db.close();
  }
} catch (err) {
  parentPort!.postMessage({ error: (err as Error).message });
}
