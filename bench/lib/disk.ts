/**
 * Bytes on disk per table, for storage benchmarks: SQLite's `dbstat` (every page of a table and of
 * its indexes, overflow pages included) and PostgreSQL's `pg_total_relation_size` (heap, TOAST and
 * indexes, summed over a table's partitions).
 */
import Database from 'better-sqlite3';
import pg from 'pg';

/** Bytes per table of a SQLite file, each table's indexes counted with it. */
export function sqliteTableBytes(file: string): Map<string, number> {
  const db = new Database(file, { readonly: true });
  try {
    const owner = new Map(
      db
        .prepare<[], { name: string; tbl_name: string }>('SELECT name, tbl_name FROM sqlite_master')
        .all()
        .map((r) => [r.name, r.tbl_name]),
    );
    const out = new Map<string, number>();
    for (const row of db
      .prepare<[], { name: string; bytes: number }>(
        'SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name',
      )
      .all()) {
      const table = owner.get(row.name) ?? row.name;
      out.set(table, (out.get(table) ?? 0) + row.bytes);
    }
    return out;
  } finally {
    db.close();
  }
}

/** Records and payload bytes per stream in the embedded log's chunks, to share the table's pages out. */
export function logStreamShares(file: string): Map<string, { records: number; payload: number }> {
  const db = new Database(file, { readonly: true });
  try {
    return new Map(
      db
        .prepare<[], { stream: string; records: number; payload: number }>(
          `SELECT stream, SUM(end_offset - first_offset) AS records, SUM(length(records)) AS payload
           FROM chunks GROUP BY stream`,
        )
        .all()
        .map((r) => [r.stream, { records: r.records, payload: r.payload }]),
    );
  } finally {
    db.close();
  }
}

/** Idempotency keys per stream held by the embedded log. */
export function logKeyCounts(file: string): Map<string, number> {
  const db = new Database(file, { readonly: true });
  try {
    return new Map(
      db
        .prepare<[], { stream: string; n: number }>(
          'SELECT stream, COUNT(*) AS n FROM idempotency_keys GROUP BY stream',
        )
        .all()
        .map((r) => [r.stream, r.n]),
    );
  } finally {
    db.close();
  }
}

/**
 * Bytes per table of a PostgreSQL database (partitions summed into their parent), after a VACUUM so
 * free space is counted as the server sees it at rest.
 */
export async function postgresTableBytes(
  url: string,
  options: { full?: boolean } = {},
): Promise<Map<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // After deletes, a plain VACUUM marks the space free for reuse but keeps the files' size: FULL
    // rewrites them, which is the size a steady state that reuses that space settles at.
    await client.query(options.full ? 'VACUUM FULL' : 'VACUUM');
    const { rows } = await client.query<{ name: string; bytes: string }>(
      // pg_partition_tree has no rows for a table that is not partitioned.
      `SELECT c.relname AS name, coalesce(
         (SELECT sum(pg_total_relation_size(t.relid)) FROM pg_partition_tree(c.oid) t),
         pg_total_relation_size(c.oid)) AS bytes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition`,
    );
    return new Map(rows.map((r) => [r.name, Number(r.bytes)]));
  } finally {
    await client.end();
  }
}

/** A fresh database on the PostgreSQL server of `adminUrl`, and a way to drop it. */
export async function scratchDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `beacon_bench_${Math.random().toString(36).slice(2, 10)}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** Sum of the bytes of the tables whose names pass `match`. */
export function sumTables(bytes: ReadonlyMap<string, number>, match: (table: string) => boolean): number {
  let total = 0;
  for (const [table, n] of bytes) if (match(table)) total += n;
  return total;
}
