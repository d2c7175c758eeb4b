import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { isBeaconError } from '../src/errors/catalog.ts';
import { isUnavailable, storeError } from '../src/store/postgres/errors.ts';
import type { MessageRow } from '../src/messages/model.ts';
import { postgresMigrations86f62b7 as pgMigrations } from './fixtures/86f62b7/postgres-migrations.ts';
import type { CheckRow } from '../src/monitor/model.ts';
import { postgresStore } from '../src/roles/store-postgres.ts';
import { freshDatabase, PG_PORT, sqlRows, type TestDatabase } from './helpers/postgres.ts';
import { TcpProxy } from './helpers/tcp-proxy.ts';
import { gather, sampleTarget } from './helpers/targets.ts';

const DAY = 86_400_000;
const OPEN_STORE = fileURLToPath(new URL('./helpers/open-store.ts', import.meta.url));

async function database(): Promise<TestDatabase> {
  const db = await freshDatabase();
  return db;
}

const partitionsOf = async (url: string) =>
  (
    await sqlRows<{ name: string }>(
      url,
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'messages'::regclass ORDER BY 1`,
    )
  ).map((r) => r.name);

const dayName = (ms: number) => `messages_p${new Date(ms).toISOString().slice(0, 10).replaceAll('-', '')}`;

const check = (scheduledAt: number): CheckRow => ({
  tenant: 't1',
  target: 'a',
  region: 'eu',
  slot: Math.floor(scheduledAt / 60_000),
  scheduledAt,
  startedAt: scheduledAt + 3,
  durationMs: 12.5,
  phases: { dnsMs: 1, connectMs: 2, tlsMs: 3, ttfbMs: 4, transferMs: 2.5 },
  status: 200,
  httpVersion: '1.1',
  bytes: 10,
  tlsExpiresAt: null,
  patternMatched: null,
  redirects: 0,
  ok: true,
  error: null,
});

const row = (n: number, receivedAt: number): MessageRow => ({
  tenant: 't1',
  key: `k${n}`,
  id: `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
  receivedAt,
  payload: { n, text: 'tab\tnewline\n"quoted", comma' },
});

describe('PostgreSQL store', () => {
  test('partitions are created ahead at open and on demand; retention drops old ones whole', async () => {
    const db = await database();
    const now = Date.now();
    const store = postgresStore({ url: db.url, partitionsAhead: 3, maintenanceIntervalMs: 0 });
    await store.open();
    try {
      assert.equal(store.layout, 'native', 'this machine has no TimescaleDB: the native path is tested');
      const ready = await partitionsOf(db.url);
      assert.deepEqual(
        ready,
        [0, 1, 2, 3].map((d) => dayName(now + d * DAY)),
      );

      // Late or replayed rows far in the past get a partition of their own, in the same transaction.
      const rows = [row(1, now - 10 * DAY), row(2, now - 5 * DAY), row(3, now)];
      assert.equal(await store.transaction((tx) => tx.messages.insert(rows)), 3);
      assert.ok((await partitionsOf(db.url)).includes(dayName(now - 10 * DAY)));
      const listed = await store.messages.list({ tenant: 't1', limit: 10 });
      assert.deepEqual(
        listed.map((m) => [m.id, m.receivedAt, m.payload]),
        rows.map((r) => [r.id, r.receivedAt, r.payload]),
        'times exact to the millisecond and payloads byte for byte',
      );

      // Two days later: two more partitions ahead, nothing dropped without a retention setting.
      const later = await store.maintain(now + 2 * DAY);
      assert.deepEqual(later.wings.messages!.created, [dayName(now + 4 * DAY), dayName(now + 5 * DAY)]);
      // Checks live in unpartitioned hot rows and blocks (migration 9): nothing to make ahead.
      assert.equal(later.wings.monitor, undefined);
      assert.deepEqual(later.dropped, []);
    } finally {
      await store.close();
    }

    // With 7 days of retention, opening the store drops the 10-day-old partition and its keys.
    const retaining = postgresStore({
      url: db.url,
      partitionsAhead: 3,
      retentionDays: 7,
      maintenanceIntervalMs: 0,
    });
    await retaining.open();
    try {
      assert.ok(!(await partitionsOf(db.url)).includes(dayName(now - 10 * DAY)));
      assert.deepEqual(
        (await retaining.messages.list({ tenant: 't1', limit: 10 })).map((m) => m.id),
        [row(2, 0).id, row(3, 0).id],
      );
      // Rows inside retention keep their keys: a replay of them is still a duplicate.
      assert.equal(await retaining.transaction((tx) => tx.messages.insert([row(2, now - 5 * DAY)])), 0);

      // Three days on, the 5-day-old partition is past retention too.
      const report = await retaining.maintain(now + 3 * DAY);
      assert.deepEqual(report.dropped, [dayName(now - 5 * DAY)]);
      assert.equal(report.keysDeleted, 1);
      assert.equal(await retaining.messages.count('t1'), 1);
    } finally {
      await retaining.close();
    }
  });

  test('a partition dropped by another process is created again when a late row needs it', async () => {
    const db = await database();
    const now = Date.now();
    const writer = postgresStore({ url: db.url, maintenanceIntervalMs: 0 });
    const retainer = postgresStore({ url: db.url, retentionDays: 7, maintenanceIntervalMs: 0 });
    await writer.open();
    await retainer.open();
    try {
      assert.equal(await writer.transaction((tx) => tx.messages.insert([row(1, now - 10 * DAY)])), 1);
      assert.deepEqual((await retainer.maintain(now)).dropped, [dayName(now - 10 * DAY)]);
      // The writer still believes the partition exists: its first attempt fails, and the sink's
      // retry (the log offers the batch again) creates the partition and stores the row.
      const late = () => writer.transaction((tx) => tx.messages.insert([row(2, now - 10 * DAY)]));
      await assert.rejects(late(), /no partition/);
      assert.equal(await late(), 1);
      assert.equal(await writer.messages.count('t1'), 1);
    } finally {
      await writer.close();
      await retainer.close();
    }
  });

  test('after a failed first transaction, the next batch on the same connection is stored', async () => {
    const db = await database();
    const store = postgresStore({ url: db.url, poolSize: 2, maintenanceIntervalMs: 0 });
    await store.open();
    try {
      const now = Date.now();
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.messages.insert([row(1, now)]);
          throw new Error('projection failed');
        }),
        /projection failed/,
      );
      // Two batches in one transaction, then another transaction: each sees only its own rows.
      const n = await store.transaction(
        async (tx) => (await tx.messages.insert([row(1, now)])) + (await tx.messages.insert([row(2, now)])),
      );
      assert.equal(n, 2);
      assert.equal(await store.transaction((tx) => tx.messages.insert([row(3, now), row(2, now)])), 1);
      assert.equal(await store.messages.count('t1'), 3);
    } finally {
      await store.close();
    }
  });

  test('monitor checks: hot rows by series; retention deletes what is before the cutoff, a late check is stored again', async () => {
    const db = await database();
    const now = Date.now();
    const today = now - (now % DAY);
    const writer = postgresStore({ url: db.url, maintenanceIntervalMs: 0 });
    const pruner = postgresStore({ url: db.url, maintenanceIntervalMs: 0 });
    await writer.open();
    await pruner.open();
    try {
      const at = [today - 10 * DAY + 5, today - 3 * DAY, today - 3 * DAY + 12 * 3_600_000, today + 1000];
      const stored = await writer.transaction((tx) => tx.checks.insert(at.map((t) => check(t))));
      assert.equal(stored.length, 4);
      const placed = await sqlRows<{ at: number; tenant: string }>(
        db.url,
        `SELECT t.at, s.tenant FROM monitor_hot_checks h
         JOIN monitor_series s ON s.id = h.series CROSS JOIN unnest(h.at) AS t (at) ORDER BY t.at`,
      );
      assert.deepEqual(
        placed.map((p) => [p.at, p.tenant]),
        at.map((t) => [t, 't1']),
      );

      // Another process prunes up to just after midnight three days ago.
      const pruned = await pruner.transaction((tx) => tx.checks.deleteChecksBefore(today - 3 * DAY + 1));
      assert.equal(pruned, 2);
      // A late check for a pruned day is stored like any other.
      const late = () => writer.transaction((tx) => tx.checks.insert([check(today - 10 * DAY + 60_000)]));
      assert.equal((await late()).length, 1);
      assert.equal((await late()).length, 0, 'a check is stored once');
      assert.deepEqual(
        (await writer.monitor.listChecks({ tenant: 't1', target: 'a', limit: 10 })).map((c) => c.scheduledAt),
        [at[3], at[2], today - 10 * DAY + 60_000],
      );
    } finally {
      await writer.close();
      await pruner.close();
    }
  });

  test('incident changes from two stores at once get distinct seqs, rising in commit order', async () => {
    const db = await database();
    const first = postgresStore({ url: db.url, maintenanceIntervalMs: 0 });
    const second = postgresStore({ url: db.url, maintenanceIntervalMs: 0 });
    await first.open();
    await second.open();
    const incident = (target: string) => ({
      tenant: 't1',
      target,
      region: 'eu',
      startedAt: Date.now(),
      endedAt: null,
      cause: 'timeout' as const,
      detail: '',
    });
    try {
      // The first sink opens an incident and is slow to commit; the second opens one meanwhile.
      let opened!: () => void;
      const openedFirst = new Promise<void>((resolve) => (opened = resolve));
      const slow = first.transaction(async (tx) => {
        await tx.checks.openIncident(incident('slow'));
        opened();
        await new Promise((r) => setTimeout(r, 500));
      });
      await openedFirst;
      const fast = second.transaction((tx) => tx.checks.openIncident(incident('fast')));
      await Promise.all([slow, fast]);
      const changes = await first.monitor.incidentChanges(0, 10);
      assert.deepEqual(
        changes.map((c) => [c.target, c.seq]),
        [
          ['slow', 1],
          ['fast', 2],
        ],
      );
      assert.equal(await second.monitor.lastIncidentSeq(), 2);
    } finally {
      await first.close();
      await second.close();
    }
  });

  test('uses BRIN for time indexes and carries the tenant on every row', async () => {
    const db = await database();
    const store = postgresStore({ url: db.url, maintenanceIntervalMs: 0 });
    await store.open();
    await store.close();
    const brin = await sqlRows<{ name: string }>(
      db.url,
      `SELECT i.relname AS name FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
       JOIN pg_am a ON a.oid = i.relam JOIN pg_class t ON t.oid = x.indrelid
       WHERE a.amname = 'brin' AND t.relname IN ('messages', 'message_keys', 'monitor_checks') ORDER BY 1`,
    );
    assert.deepEqual(
      brin.map((r) => r.name),
      ['message_keys_received_brin', 'messages_received_brin', 'monitor_checks_scheduled_brin'],
    );
    const tenantless = await sqlRows<{ table: string }>(
      db.url,
      `SELECT table_name AS table FROM information_schema.tables t
       WHERE table_schema = 'public' AND table_name IN ('messages', 'message_keys', 'tokens',
         'monitor_targets', 'monitor_checks', 'monitor_rollups', 'monitor_states', 'monitor_incidents')
       AND NOT EXISTS (SELECT 1 FROM information_schema.columns c
                       WHERE c.table_name = t.table_name AND c.column_name = 'tenant')`,
    );
    assert.deepEqual(tenantless, []);
  });

  test('three processes migrating at once apply each migration exactly once', async () => {
    const db = await database();
    const at = String(Date.now() + 1500);
    const run = promisify(execFile);
    const outputs = await Promise.all([1, 2, 3].map(() => run(process.execPath, [OPEN_STORE, db.url, at])));
    const reports = outputs.map((o) => JSON.parse(o.stdout) as { applied: string[]; existing: string[] });
    const appliers = reports.filter((r) => r.applied.length > 0);
    assert.equal(appliers.length, 1, JSON.stringify(reports));
    const names = appliers[0]!.applied;
    // Every version 86f62b7 had, and those added since.
    assert.deepEqual(
      names.slice(0, pgMigrations.length),
      pgMigrations.map((m) => m.name),
    );
    assert.ok(names.length >= pgMigrations.length, 'more than one migration to apply');
    for (const r of reports.filter((x) => x.applied.length === 0)) {
      assert.deepEqual(r.existing, names);
    }
    const versions = await sqlRows<{ version: number }>(
      db.url,
      'SELECT version FROM beacon_migrations ORDER BY version',
    );
    assert.equal(versions.length, names.length, 'one row per version applied');

    // A later open finds everything in place.
    const store = postgresStore({ url: db.url, maintenanceIntervalMs: 0 });
    assert.deepEqual(await store.open(), []);
    assert.deepEqual(store.existing, names);
    await store.close();
  });

  test('a server that cannot be reached is reported as STORE_UNAVAILABLE', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address() as { port: number };
        server.close(() => resolve(address.port));
      });
    });
    const store = postgresStore({ url: `postgres://beacon@127.0.0.1:${port}/beacon` });
    await assert.rejects(store.open(), (err: unknown) => {
      assert.ok(isBeaconError(err) && err.code === 'STORE_UNAVAILABLE', String(err));
      assert.equal(err.status, 503);
      return true;
    });
  });

  test('a connection killed mid-transaction is an outage; a bad statement is not', async () => {
    const db = await database();
    const victim = new pg.Client({ connectionString: db.url });
    await victim.connect();
    victim.on('error', () => undefined);
    const { rows } = await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await sqlRows(db.url, `SELECT pg_terminate_backend(${rows[0]!.pid})`);
    const killed = await victim.query('SELECT 1').catch((err: unknown) => err);
    assert.ok(isUnavailable(killed), String(killed));
    const mapped = storeError(killed);
    assert.ok(isBeaconError(mapped) && mapped.code === 'STORE_UNAVAILABLE' && mapped.cause === killed);
    await victim.end().catch(() => undefined);

    const healthy = new pg.Client({ connectionString: db.url });
    await healthy.connect();
    try {
      const bad = await healthy.query('SELEC 1').catch((err: unknown) => err);
      assert.equal(isUnavailable(bad), false);
      assert.equal(storeError(bad), bad, 'a bug stays a bug, not a 503');
    } finally {
      await healthy.end();
    }
  });

  test('a connection lost between two statements of a transaction is an outage, not a crash', async () => {
    const db = await database();
    const store = postgresStore({ url: db.url, poolSize: 1, maintenanceIntervalMs: 0 });
    await store.open();
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      const now = Date.now();
      const lost = await store
        .transaction(async (tx) => {
          await tx.messages.insert([row(1, now)]);
          // Between statements nothing waits on the socket: the server's goodbye arrives as the
          // connection's 'error' event, which crashed the sink before a listener heard it.
          const { rows } = await other.query<{ pid: number }>(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()`,
          );
          assert.equal(rows.length, 1, 'the store holds one connection');
          const gone = `SELECT count(*)::int AS n FROM pg_stat_activity
                        WHERE datname = current_database() AND pid <> pg_backend_pid()`;
          while ((await other.query<{ n: number }>(gone)).rows[0]!.n > 0);
          // One more round trip on another socket: the event loop has read the dead one by then.
          await other.query('SELECT 1');
        })
        .catch((err: unknown) => err);
      assert.ok(isBeaconError(lost) && lost.code === 'STORE_UNAVAILABLE', String(lost));
      assert.ok(store.retryable(lost));
      assert.equal(await store.transaction((tx) => tx.messages.insert([row(1, now)])), 1);
      assert.equal(await store.messages.count('t1'), 1);
    } finally {
      await other.end();
      await store.close();
    }
  });

  test('a statement left unanswered (a network partition) fails after queryTimeoutMs as an outage; the next batch is stored', async () => {
    const db = await database();
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: PG_PORT });
    const url = db.url.replace(`:${PG_PORT}/`, `:${proxy.port}/`);
    const store = postgresStore({ url, poolSize: 2, maintenanceIntervalMs: 0, queryTimeoutMs: 1000 });
    await store.open();
    try {
      const now = Date.now();
      assert.equal(await store.transaction((tx) => tx.messages.insert([row(1, now)])), 1);
      proxy.cut();
      // No reset, no error from the network: only the timeout ends the wait.
      const lost = await store
        .transaction((tx) => tx.messages.insert([row(2, now)]))
        .catch((err: unknown) => err);
      assert.ok(isBeaconError(lost) && lost.code === 'STORE_UNAVAILABLE', String(lost));
      assert.ok(store.retryable(lost), 'a sink offers the batch again rather than setting it aside');
      assert.match(String((lost as Error).cause), /Query read timeout/);
      const read = await store.messages.count('t1').catch((err: unknown) => err);
      assert.ok(isBeaconError(read) && read.code === 'STORE_UNAVAILABLE', String(read));
      proxy.heal();
      // The timed-out connection was discarded; the retry runs on a fresh one and stores the row.
      assert.equal(await store.transaction((tx) => tx.messages.insert([row(2, now)])), 1);
      assert.equal(await store.messages.count('t1'), 2);
    } finally {
      await store.close();
      await proxy.close();
    }
  });

  test('a targets-file load cut off from PostgreSQL fails as an outage and changes nothing; the next load stores the file', async () => {
    const db = await database();
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: PG_PORT });
    const url = db.url.replace(`:${PG_PORT}/`, `:${proxy.port}/`);
    const store = postgresStore({ url, poolSize: 2, maintenanceIntervalMs: 0, queryTimeoutMs: 1000 });
    await store.open();
    const file = (id: string) => sampleTarget(id, { source: 'file' });
    const ids = async () => (await gather(store.monitor.targetPages())).map((t) => t.id);
    try {
      await store.targets.replaceFileTargets([file('a'), file('b')]);
      const load = await store.targets.loadFileTargets();
      // Past a page (500), so the first rows are written to the load's table before the cut.
      await load.add(Array.from({ length: 600 }, (_, i) => file(`x${i}`)));
      proxy.cut();
      const lost = await load
        .add(Array.from({ length: 600 }, (_, i) => file(`y${i}`)))
        .catch((e: unknown) => e);
      assert.ok(isBeaconError(lost) && lost.code === 'STORE_UNAVAILABLE', String(lost));
      await load.discard(); // the load is over; its connection was discarded with its table
      await assert.rejects(load.commit(), /over/);
      proxy.heal();
      assert.deepEqual(await ids(), ['a', 'b'], 'nothing of the failed load is stored');
      const next = await store.targets.loadFileTargets();
      await next.add([file('c')]);
      assert.deepEqual(await next.commit(), { upserted: 1, deleted: 2 });
      assert.deepEqual(await ids(), ['c']);
    } finally {
      await store.close();
      await proxy.close();
    }
  });
});
