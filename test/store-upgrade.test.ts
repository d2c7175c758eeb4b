// A database that commit 86f62b7 created (before each domain got its own store wing) must open with
// today's code: only the versions added since apply, it then has exactly the schema a fresh database
// gets, and its rows read back. The old migrations are kept verbatim in test/fixtures/86f62b7/.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { postgresStore } from '../src/roles/store-postgres.ts';
import { sqliteStore } from '../src/roles/store-sqlite.ts';
import type { BeaconStore } from '../src/roles/store.ts';
import { migrate as migratePostgres } from '../src/store/postgres/migrations.ts';
import { migrate, openDatabase, type SqliteDatabase } from '../src/sqlite/database.ts';
import { postgresMigrations86f62b7 } from './fixtures/86f62b7/postgres-migrations.ts';
import { sqliteMigrations86f62b7 } from './fixtures/86f62b7/sqlite-migrations.ts';
import { freshDatabase } from './helpers/postgres.ts';
import { sampleTarget } from './helpers/targets.ts';
import { pino } from 'pino';
import { Compactor } from '../src/monitor/compaction.ts';
import type { CheckRow } from '../src/monitor/model.ts';
import { addToRollups } from '../src/monitor/rollup.ts';
import { checkValues, rollupValues } from '../src/monitor/store/rows.ts';

const NAMES = [
  '001_tenants_messages_checkpoints',
  '002_monitor',
  '003_analytics',
  '004_occupancy',
  '005_messages_client_keys_only',
  '006_occupancy_hours',
];
/** Versions added since 86f62b7: all a database of that day has to apply. */
const LATER = [
  '007_dead_letters',
  '008_tenants_disabled',
  '009_check_blocks',
  '010_alerts',
  '012_occupancy_operations',
  '013_occupancy_compact_events',
  '014_analytics_insights',
  '016_target_current',
  '017_status_pages',
  '018_badge_tokens',
  '019_check_blocks_rowid',
  '020_occupancy_sink',
  '021_minute_rollups_derived',
  '022_check_block_tails',
];

const {
  id: _id,
  tenant: _tenant,
  source: _source,
  createdAt: _c,
  updatedAt: _u,
  ...spec
} = sampleTarget('web');

/** A row of each kind the old code wrote, through the old schema's own columns. */
const seed = {
  tenant: ['t1', 'Tenant one', 1000],
  token: ['tok-1', 't1', 'admin', '["admin"]', 'hash-1', 1000, null],
  message: ['t1', 2000, 'id-1', 'client-key', '{"n":1}'],
  target: ['t1', 'web', 'api', JSON.stringify(spec), 1000, 1000],
  space: ['t1', 'lobby', 'Lobby', null, 1000],
};

const DAY = 86_400_000;
/** The columns of 86f62b7's monitor_checks: all but kind, state and observed (version 10). */
const OLD_CHECK_COLUMNS = 21;
/** A check's values in 86f62b7's monitor_checks columns. */
const oldCheckValues = (c: CheckRow) => checkValues(c).slice(0, OLD_CHECK_COLUMNS);

/** Checks as 86f62b7 stored them, one row each in monitor_checks: the day after the epoch, two regions. */
const oldChecks: CheckRow[] = [0, 1, 2].flatMap((i) =>
  ['eu', 'us'].map((region) => ({
    tenant: 't1',
    target: 'web',
    region,
    slot: 1440 + i,
    scheduledAt: DAY + i * 60_000,
    startedAt: DAY + i * 60_000 + 4,
    durationMs: 41.37 + i,
    phases: { dnsMs: 1.25, connectMs: 2.5, tlsMs: 7.75, ttfbMs: 20.1, transferMs: 9.5 },
    status: i === 1 ? 503 : 200,
    httpVersion: '1.1',
    bytes: 1234,
    tlsExpiresAt: 90 * DAY,
    patternMatched: i === 2 ? false : null,
    redirects: 0,
    ok: i !== 1,
    error: i === 1 ? { class: 'status' as const, detail: 'status 503 not in 200-399' } : null,
  })),
);
const newestFirst = [...oldChecks].sort(
  (a, b) => b.scheduledAt - a.scheduledAt || (a.region < b.region ? 1 : -1),
);
/** The rollups 86f62b7's sink stored for those checks: minute, hour and day, per region. */
const oldRollups = addToRollups([], oldChecks);
const oldMinutes = oldRollups
  .filter((r) => r.size === 'minute')
  .sort((a, b) => a.start - b.start || (a.region < b.region ? -1 : 1));

/**
 * Checks the old code stored read back as they were, and background compaction (which the upgraded
 * code runs) moves them into blocks without changing an answer.
 */
async function readChecksBack(store: BeaconStore): Promise<void> {
  const page = () => store.monitor.listChecks({ tenant: 't1', target: 'web', limit: 100 });
  assert.deepEqual(await page(), newestFirst);
  // Version 21 deleted the stored minute rollups; the same minutes are summed from the old rows (whose
  // target has no series yet), and the hour and day rollups are still stored.
  const rollups = (size: 'minute' | 'hour' | 'day') =>
    store.monitor.rollups({ tenant: 't1', target: 'web', size, from: 0, to: 3 * DAY });
  assert.deepEqual(await rollups('minute'), oldMinutes);
  assert.deepEqual(
    await store.transaction((tx) => tx.checks.getRollups(oldMinutes)),
    [],
    'no minute rollup is stored',
  );
  const kept = [...(await rollups('hour')), ...(await rollups('day'))];
  assert.deepEqual(kept.length, 4);
  const latest = newestFirst.filter((c) => c.scheduledAt === newestFirst[0]!.scheduledAt).reverse();
  assert.deepEqual(await store.monitor.latestChecks('t1'), latest);
  // A copy of an old check (a prober's spool drained after the upgrade) is not new.
  assert.deepEqual(await store.transaction((tx) => tx.checks.insert([oldChecks[0]!])), []);
  const compacted = await new Compactor({ store, periodMs: DAY, logger: pino({ level: 'silent' }) }).run(
    3 * DAY,
  );
  assert.deepEqual([compacted.checks, compacted.blocks], [6, 2]);
  assert.deepEqual(await page(), newestFirst);
  assert.deepEqual(await store.monitor.latestChecks('t1'), latest);
  assert.deepEqual(await store.transaction((tx) => tx.checks.insert([oldChecks[0]!])), []);
  assert.deepEqual(await rollups('minute'), oldMinutes, 'minutes summed from the blocks');
}

/** Tables that versions added since 86f62b7 made. */
const LATER_TABLES =
  /dead_letters|badge_tokens|monitor_(series|hot_checks|check_blocks|check_block_tails|pushes|alert_rules|maintenance|alert_states|cert_warnings|targets_push_token|current|status_pages|status_updates)|notify_|analytics_(definitions|shared_links|reports|outbox|imports|import_files|imported)\b|occupancy_(space_moves|transfers|corrections|audit|alerts|outbox|sensor_hours|sensor_last|model)/;
/** Columns that versions added since 86f62b7 gave to older tables. */
/** SQLite's CREATE text of older tables: what ALTER TABLE ADD COLUMN appended since 86f62b7. */
const LATER_SQLITE = [
  ', disabled_at INTEGER',
  ", salt_rotation TEXT NOT NULL DEFAULT 'daily', currency TEXT NOT NULL DEFAULT 'USD'",
  ', kind TEXT, state TEXT, observed TEXT',
  ', fails INTEGER NOT NULL DEFAULT 0, slow INTEGER NOT NULL DEFAULT 0',
  ', push_token TEXT',
  ', capacity INTEGER, alert_after_minutes INTEGER, open_hours TEXT',
  ', area INTEGER NOT NULL DEFAULT 0',
];
const LATER_COLUMNS = [
  'tenants.disabled_at',
  'analytics_sites.salt_rotation',
  'analytics_sites.currency',
  'analytics_sessions.sample',
  'analytics_sessions.steps',
  'occupancy_spaces.capacity',
  'occupancy_spaces.alert_after_minutes',
  'occupancy_spaces.open_hours',
  'occupancy_minutes.area',
  'occupancy_hours.area',
  'occupancy_days.area',
  'monitor_checks.kind',
  'monitor_checks.state',
  'monitor_checks.observed',
  'monitor_states.fails',
  'monitor_states.slow',
  'monitor_targets.push_token',
];

/**
 * The occupancy events table, which version 13 rebuilt in another layout, and the deltas it replaced:
 * left out of the comparison with 86f62b7 (the occupancy store tests check that migration on its own).
 */
const rebuilt = (lines: string[]) => lines.filter((line) => !/occupancy_(events|deltas)/.test(line));

/** A schema as 86f62b7 made it: what the versions added since made is taken out again. */
const as86f62b7 = (lines: string[]) =>
  rebuilt(lines)
    .filter(
      (line) =>
        !LATER_TABLES.test(line) &&
        !line.includes('analytics_sessions_sample') &&
        !line.startsWith('index analytics_sessions_id:') &&
        !LATER_COLUMNS.some((column) => line.startsWith(`column ${column} `)),
    )
    .map((line) =>
      LATER_SQLITE.reduce((l, added) => l.replace(added, ''), line)
        // Version 14 rebuilt SQLite's sessions table keyed by sample bucket and start.
        .replace('CREATE TABLE "analytics_sessions"', 'CREATE TABLE analytics_sessions')
        .replace(
          'sample INTEGER NOT NULL, steps TEXT NOT NULL, PRIMARY KEY (tenant, site, sample, started_local, id)',
          'PRIMARY KEY (tenant, site, id)',
        ),
    );

/** Everything a database's schema declares, in a form two databases can be compared by. */
function sqliteSchema(db: SqliteDatabase): string[] {
  const rows = db
    .prepare<[], { type: string; name: string; sql: string | null }>(
      "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
    )
    .all();
  return rows.map(
    (r) => `${r.type} ${r.name}: ${(r.sql ?? '').replace(/--[^\n]*/g, '').replace(/\s+/g, ' ')}`,
  );
}

async function readBack(store: BeaconStore): Promise<void> {
  assert.equal((await store.tenants.get('t1'))?.name, 'Tenant one');
  assert.deepEqual(
    (await store.tenants.listTokens('t1')).map((t) => [t.id, t.scopes]),
    [['tok-1', ['admin']]],
  );
  assert.deepEqual(
    (await store.messages.list({ tenant: 't1', limit: 10 })).map((m) => [m.id, m.receivedAt, m.payload]),
    [['id-1', 2000, { n: 1 }]],
  );
  // A target stored before kinds reads as the http target it was.
  const web = await store.monitor.getTarget('t1', 'web');
  assert.equal(web?.kind, 'http');
  assert.equal(web?.kind === 'http' ? web.url : undefined, spec.url);
  assert.equal((await store.occupancy.space('t1', 'lobby'))?.name, 'Lobby');
  // The new code writes into the old tables too: a client key the old rows hold is not stored twice.
  const inserted = await store.transaction((tx) =>
    tx.messages.insert([
      { tenant: 't1', key: 'client-key', id: 'id-2', receivedAt: 3000, payload: {} },
      { tenant: 't1', key: 'id-3', id: 'id-3', receivedAt: 3000, payload: { n: 3 } },
    ]),
  );
  assert.equal(inserted, 1);
}

test('a SQLite store made by 86f62b7 opens: only later versions apply, the same schema as a new one, its rows readable', async () => {
  const oldDir = mkdtempSync(join(tmpdir(), 'beacon-86f62b7-'));
  const freshDir = mkdtempSync(join(tmpdir(), 'beacon-fresh-'));
  try {
    const old = openDatabase(join(oldDir, 'beacon.db'), { synchronous: 'normal' });
    assert.deepEqual(migrate(old, sqliteMigrations86f62b7), NAMES);
    const schema86f62b7 = sqliteSchema(old);
    old.prepare('INSERT INTO tenants VALUES (?, ?, ?)').run(...seed.tenant);
    old.prepare('INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, ?)').run(...seed.token);
    old
      .prepare('INSERT INTO messages (tenant, received_at, id, key, payload) VALUES (?, ?, ?, ?, ?)')
      .run(...seed.message);
    old.prepare('INSERT INTO monitor_targets VALUES (?, ?, ?, ?, ?, ?)').run(...seed.target);
    old.prepare('INSERT INTO occupancy_spaces VALUES (?, ?, ?, ?, ?)').run(...seed.space);
    const check = old.prepare(
      `INSERT INTO monitor_checks VALUES (${oldCheckValues(oldChecks[0]!)
        .map(() => '?')
        .join(', ')})`,
    );
    for (const c of oldChecks) check.run(oldCheckValues(c));
    const rollup = old.prepare('INSERT INTO monitor_rollups VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    for (const r of oldRollups) rollup.run(rollupValues(r));
    old.close();

    const store = sqliteStore({ dataDir: oldDir });
    assert.deepEqual(await store.open(), LATER, 'only what came after 86f62b7 applies');
    assert.deepEqual(store.existing, NAMES);
    try {
      await readBack(store);
      await readChecksBack(store);
    } finally {
      await store.close();
    }
    // A row of the format before blocks that has version 10's columns reads back with them.
    const kinded: CheckRow = {
      ...oldChecks[0]!,
      scheduledAt: 5 * DAY,
      slot: 7200,
      startedAt: 5 * DAY + 3,
      kind: 'dns',
      state: 'degraded',
      observed: { answers: ['10 mx.example.com'] },
    };
    const legacy = openDatabase(join(oldDir, 'beacon.db'), { synchronous: 'normal' });
    legacy
      .prepare(
        `INSERT INTO monitor_checks VALUES (${checkValues(kinded)
          .map(() => '?')
          .join(', ')})`,
      )
      .run(checkValues(kinded));
    legacy.close();
    const reopened = sqliteStore({ dataDir: oldDir });
    await reopened.open();
    try {
      assert.deepEqual(await reopened.monitor.listChecks({ tenant: 't1', target: 'web', limit: 1 }), [
        kinded,
      ]);
    } finally {
      await reopened.close();
    }
    const upgraded = openDatabase(join(oldDir, 'beacon.db'), { synchronous: 'normal', readonly: true });
    const oldSchema = sqliteSchema(upgraded);
    upgraded.close();

    const fresh = sqliteStore({ dataDir: freshDir });
    assert.deepEqual(await fresh.open(), [...NAMES, ...LATER]);
    await fresh.close();
    const freshDb = openDatabase(join(freshDir, 'beacon.db'), { synchronous: 'normal', readonly: true });
    try {
      assert.deepEqual(sqliteSchema(freshDb), oldSchema, 'an upgraded database has the schema of a new one');
      assert.deepEqual(
        as86f62b7(sqliteSchema(freshDb)),
        rebuilt(schema86f62b7),
        'versions 1 to 6 make what 86f62b7 made',
      );
      assert.equal(freshDb.pragma('user_version', { simple: true }), Number(LATER.at(-1)!.slice(0, 3)));
    } finally {
      freshDb.close();
    }
  } finally {
    rmSync(oldDir, { recursive: true, force: true });
    rmSync(freshDir, { recursive: true, force: true });
  }
});

test('messages stored under schema version 1 survive the move to client-only keys', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'beacon-store-v1-'));
  try {
    const v1 = openDatabase(join(dataDir, 'beacon.db'), { synchronous: 'normal' });
    migrate(v1, sqliteMigrations86f62b7.slice(0, 1));
    const insert = v1.prepare(
      'INSERT INTO messages (tenant, received_at, id, key, payload) VALUES (?, ?, ?, ?, ?)',
    );
    insert.run('t1', 1000, 'id-1', 'id-1', '{"n":1}');
    insert.run('t1', 1001, 'id-2', 'client-key', '{"n":2}');
    v1.close();

    const store = sqliteStore({ dataDir });
    const applied = await store.open();
    try {
      assert.deepEqual(applied, [...NAMES.slice(1), ...LATER]);
      const page = await store.messages.list({ tenant: 't1', limit: 10 });
      assert.deepEqual(
        page.map((m) => [m.id, m.payload]),
        [
          ['id-1', { n: 1 }],
          ['id-2', { n: 2 }],
        ],
      );
      const again = await store.transaction((tx) =>
        tx.messages.insert([
          { tenant: 't1', key: 'client-key', id: 'id-3', receivedAt: 2000, payload: {} },
          { tenant: 't1', key: 'id-1', id: 'id-1', receivedAt: 1000, payload: {} },
        ]),
      );
      assert.equal(again, 0);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

/** Tables, columns, indexes and constraints of the public schema, as text that can be compared. */
async function postgresSchema(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const columns = await client.query<{ line: string }>(`
      SELECT format('column %s.%s %s %s %s %s', table_name, column_name, data_type, is_nullable,
                    coalesce(column_default, ''), coalesce(collation_name, '')) AS line
      FROM information_schema.columns WHERE table_schema = 'public'`);
    const indexes = await client.query<{ line: string }>(`
      SELECT format('index %s', indexdef) AS line FROM pg_indexes WHERE schemaname = 'public'`);
    const constraints = await client.query<{ line: string }>(`
      SELECT format('constraint %s %s', conrelid::regclass, pg_get_constraintdef(oid)) AS line
      FROM pg_constraint WHERE connamespace = 'public'::regnamespace`);
    const partitioned = await client.query<{ line: string }>(`
      SELECT format('partitioned %s %s', partrelid::regclass, pg_get_partkeydef(partrelid)) AS line
      FROM pg_partitioned_table`);
    return [...columns.rows, ...indexes.rows, ...constraints.rows, ...partitioned.rows]
      .map((r) => r.line)
      .filter((line) => !/_p\d{8}\b/.test(line)) // partitions come and go by date
      .sort();
  } finally {
    await client.end();
  }
}

test('a PostgreSQL store made by 86f62b7 opens: only later versions apply, the same schema as a new one, its rows readable', async () => {
  const old = await freshDatabase();
  const fresh = await freshDatabase();
  const pool = new pg.Pool({ connectionString: old.url, max: 2 });
  try {
    const report = await migratePostgres(pool, postgresMigrations86f62b7);
    assert.deepEqual(
      report.applied,
      NAMES.filter((n) => n !== '005_messages_client_keys_only'),
    );
    await pool.query('INSERT INTO tenants VALUES ($1, $2, $3)', seed.tenant);
    await pool.query('INSERT INTO tokens VALUES ($1, $2, $3, $4, $5, $6, $7)', seed.token);
    await pool.query(
      `CREATE TABLE IF NOT EXISTS messages_p19700101 PARTITION OF messages
       FOR VALUES FROM ('1970-01-01T00:00:00Z') TO ('1970-01-02T00:00:00Z')`,
    );
    await pool.query(
      `INSERT INTO messages (tenant, received_at, id, key, payload)
       VALUES ($1, timestamptz 'epoch' + $2 * interval '1 millisecond', $3, $4, $5)`,
      seed.message,
    );
    await pool.query(
      `INSERT INTO message_keys VALUES ($1, $2, timestamptz 'epoch' + $3 * interval '1 millisecond', $4)`,
      ['t1', 'client-key', 2000, 'id-1'],
    );
    await pool.query('INSERT INTO monitor_targets VALUES ($1, $2, $3, $4, $5, $6)', seed.target);
    await pool.query('INSERT INTO occupancy_spaces VALUES ($1, $2, $3, $4, $5)', seed.space);
    await pool.query(
      `CREATE TABLE IF NOT EXISTS monitor_checks_p19700102 PARTITION OF monitor_checks
       FOR VALUES FROM ('1970-01-02T00:00:00Z') TO ('1970-01-03T00:00:00Z')`,
    );
    const at = (n: number) => `timestamptz 'epoch' + $${n}::float8 * interval '1 millisecond'`;
    for (const c of oldChecks) {
      const values = oldCheckValues(c);
      await pool.query(
        `INSERT INTO monitor_checks VALUES (${values.map((_, i) => ([2, 5, 15].includes(i) && values[i] !== null ? at(i + 1) : `$${i + 1}`)).join(', ')})`,
        values.map((v, i) => (i === 16 || i === 18 ? (v === null ? null : v === 1) : v)),
      );
    }
    for (const r of oldRollups)
      await pool.query(
        `INSERT INTO monitor_rollups VALUES ($1, $2, $3, ${at(4)}, $5, $6, $7, $8, $9, $10)`,
        rollupValues(r),
      );
    const schema86f62b7 = await postgresSchema(old.url);

    const store = postgresStore({ url: old.url, maintenanceIntervalMs: 0 });
    assert.deepEqual(await store.open(), LATER, 'only what came after 86f62b7 applies');
    assert.deepEqual(
      [...store.existing],
      NAMES.filter((n) => n !== '005_messages_client_keys_only'),
    );
    try {
      await readBack(store);
      await readChecksBack(store);
    } finally {
      await store.close();
    }

    const made = postgresStore({ url: fresh.url, maintenanceIntervalMs: 0 });
    await made.open();
    await made.close();
    assert.deepEqual(
      await postgresSchema(fresh.url),
      await postgresSchema(old.url),
      'an upgraded database has the schema of a new one',
    );
    assert.deepEqual(
      as86f62b7(await postgresSchema(fresh.url)),
      rebuilt(schema86f62b7),
      'versions 1 to 6 make what 86f62b7 made',
    );
  } finally {
    await pool.end();
  }
});

/** A visit and its events as the code of 86f62b7 stored them, through the old schema's columns. */
const oldVisit = {
  site: ['st_old', 't1', 'old.example', '[]', 'UTC', 0, 1000],
  session: [
    't1',
    'st_old',
    'sess-1',
    'QkZ2visitor',
    5000,
    5000,
    9000,
    2,
    1,
    '/',
    '/b',
    'Direct / None',
    '',
    '',
    '',
    '',
    'desktop',
    'Chrome',
    'Linux',
  ],
  events: [
    ['t1', 'st_old', 'k1', 5000, 5000, 'sess-1', 'QkZ2visitor', 'pageview', '/', '{}'],
    ['t1', 'st_old', 'k3', 9000, 9000, 'sess-1', 'QkZ2visitor', 'pageview', '/b', '{}'],
    ['t1', 'st_old', 'k2', 7000, 7000, 'sess-1', 'QkZ2visitor', 'signup', '/', '{"plan":"pro"}'],
  ],
};
/** What the upgrade makes of that visit: steps in time order, and the sample bucket of its visitor. */
const upgradedVisit = {
  sample: 66,
  steps: [
    { at: 0, page: '/', name: 'pageview', props: undefined, revenue: undefined },
    { at: 2000, page: '/', name: 'signup', props: { plan: 'pro' }, revenue: undefined },
    { at: 4000, page: '/b', name: 'pageview', props: undefined, revenue: undefined },
  ],
};

test('visits stored before version 14 get their steps from their events, and their sample bucket, on both backends', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'beacon-86f62b7-visits-'));
  const db = await freshDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  try {
    const old = openDatabase(join(dir, 'beacon.db'), { synchronous: 'normal' });
    migrate(old, sqliteMigrations86f62b7);
    old.prepare('INSERT INTO tenants VALUES (?, ?, ?)').run(...seed.tenant);
    old.prepare('INSERT INTO analytics_sites VALUES (?, ?, ?, ?, ?, ?, ?)').run(...oldVisit.site);
    old
      .prepare(`INSERT INTO analytics_sessions VALUES (${oldVisit.session.map(() => '?').join(', ')})`)
      .run(...oldVisit.session);
    for (const e of oldVisit.events)
      old.prepare('INSERT INTO analytics_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(...e);
    old.close();

    await migratePostgres(pool, postgresMigrations86f62b7);
    await pool.query('INSERT INTO tenants VALUES ($1, $2, $3)', seed.tenant);
    await pool.query('INSERT INTO analytics_sites VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      ...oldVisit.site.slice(0, 5),
      false,
      1000,
    ]);
    await pool.query(
      `INSERT INTO analytics_sessions VALUES (${oldVisit.session.map((_, i) => `$${i + 1}`).join(', ')})`,
      oldVisit.session,
    );
    await pool.query(
      `CREATE TABLE analytics_events_p19700101 PARTITION OF analytics_events FOR VALUES FROM (0) TO (86400000)`,
    );
    for (const e of oldVisit.events)
      await pool.query('INSERT INTO analytics_events VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)', e);

    for (const store of [
      sqliteStore({ dataDir: dir }),
      postgresStore({ url: db.url, maintenanceIntervalMs: 0 }),
    ]) {
      await store.open();
      try {
        const [visit] = await store.analytics.visits({
          tenant: 't1',
          site: 'st_old',
          from: 0,
          to: 86_400_000,
          limit: 10,
        });
        assert.deepEqual({ sample: visit?.sample, steps: visit?.steps }, upgradedVisit);
        const site = await store.analytics.site('st_old');
        assert.deepEqual([site?.saltRotation, site?.currency], ['daily', 'USD']);
      } finally {
        await store.close();
      }
    }
  } finally {
    await pool.end();
    rmSync(dir, { recursive: true, force: true });
  }
});
