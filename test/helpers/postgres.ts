import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { postgresStore, type BeaconPostgresStore } from '../../src/roles/store-postgres.ts';
import { sqliteStore } from '../../src/roles/store-sqlite.ts';
import type { BeaconStore } from '../../src/roles/store.ts';

/** scripts/postgres: starts (or finds running) the real PostgreSQL the tests use. */
export const PG_SCRIPT = fileURLToPath(new URL('../../scripts/postgres', import.meta.url));
export const PG_PORT = 15432;
const ADMIN_URL = `postgres://beacon@127.0.0.1:${PG_PORT}/postgres`;

let started = false;

/**
 * Makes sure the shared test server is up by running `scripts/postgres start`, which is idempotent
 * and fast when it already runs. Throws (never skips) when PostgreSQL cannot be started.
 */
export function ensurePostgres(): void {
  if (started) return;
  execFileSync(PG_SCRIPT, ['start', '--quiet'], { stdio: ['ignore', 'inherit', 'inherit'] });
  started = true;
}

/** A database of its own for one test, dropped by `drop()`. */
export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

/** Runs one statement as the superuser against the maintenance database of the server at `port`. */
export async function adminQuery(sql: string, port = PG_PORT): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: ADMIN_URL.replace(`:${PG_PORT}/`, `:${port}/`) });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Databases made on the shared server by this test file; dropped when the file's tests end. */
const made: TestDatabase[] = [];
after(() => Promise.all(made.map((db) => db.drop())));

/**
 * Creates a fresh, empty database on the test server (started if need be). One on the shared server
 * is dropped when the test file ends; one on another port (a test's own cluster) is the test's to drop.
 */
export async function freshDatabase(port = PG_PORT): Promise<TestDatabase> {
  if (port === PG_PORT) ensurePostgres();
  const name = `beacon_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`, port);
  const db = {
    name,
    url: `postgres://beacon@127.0.0.1:${port}/${name}`,
    drop: async () => {
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`, port);
    },
  };
  if (port === PG_PORT) made.push(db);
  return db;
}

/** A BeaconPostgresStore, opened on a fresh database of its own. */
export async function freshPostgresStore(): Promise<BeaconPostgresStore> {
  const store = postgresStore({ url: (await freshDatabase()).url, maintenanceIntervalMs: 0 });
  await store.open();
  return store;
}

/**
 * A fresh SQLite store and a fresh PostgreSQL store, both open, for tests that give both the same
 * writes and compare their answers. Closes both, drops the database and deletes the files after `fn`.
 */
export async function withStorePair<T>(
  fn: (stores: { sqlite: BeaconStore; postgres: BeaconPostgresStore }) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'beacon-equivalence-'));
  const db = await freshDatabase();
  const sqlite = sqliteStore({ dataDir: dir });
  const postgres = postgresStore({ url: db.url, maintenanceIntervalMs: 0 });
  try {
    await sqlite.open();
    await postgres.open();
    return await fn({ sqlite, postgres });
  } finally {
    await Promise.allSettled([sqlite.close(), postgres.close()]);
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs one query on a connection of its own and returns the rows. */
export async function sqlRows<R extends pg.QueryResultRow>(url: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}

/** A port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A PostgreSQL server of a test's own, which it may stop and start without disturbing other files. */
export interface OwnServer {
  readonly port: number;
  /** Its `beacon` database. */
  readonly url: string;
  start(): void;
  /** Fast shutdown, or with `immediate` a crash (no checkpoint: recovery replays the WAL). */
  stop(immediate?: boolean): void;
  /** Stops it and deletes its cluster. */
  destroy(): void;
}

/** scripts/postgres with its own directory and a free port; not started yet. */
export async function ownServer(name: string): Promise<OwnServer> {
  const port = await freePort();
  const cluster = join(tmpdir(), `beacon-${name}-${port}-${process.pid}`);
  const env = { ...process.env, BEACON_PG_DIR: cluster, BEACON_PG_PORT: String(port) };
  const pgctl = (...args: string[]) =>
    execFileSync(PG_SCRIPT, [...args, '--quiet'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  return {
    port,
    url: `postgres://beacon@127.0.0.1:${port}/beacon`,
    start: () => pgctl('start'),
    stop: (immediate = false) => (immediate ? pgctl('stop', '--immediate') : pgctl('stop')),
    destroy: () => {
      try {
        pgctl('stop');
      } finally {
        rmSync(cluster, { recursive: true, force: true });
        rmSync(`${cluster}.lock`, { force: true });
      }
    },
  };
}
