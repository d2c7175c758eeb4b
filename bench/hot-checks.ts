/**
 * Hot check rows on PostgreSQL: what they cost at rest, to write and to read, before compaction.
 *
 * Realistic checks (bench/lib/check-series.ts) of N targets at 60 s are written through the store's
 * check writer (`tx.checks.insert`, as the sink does) into a fresh database two ways: **live**, one
 * transaction per slot (all targets' checks of one minute, as a sink keeping up writes them), and
 * **catch-up**, transactions of 5,000 checks (a sink draining a backlog). Then, for the live store:
 * bytes at rest per check (after a VACUUM: heap, TOAST and indexes apart), a page of 100 checks of
 * one target, every target's newest check (`latestChecks`), an hour of minute rollups summed from
 * the checks, and compaction of it all into blocks. Written to run unchanged against older commits,
 * so a layout can be compared with the one before it in one sitting.
 *
 *   node bench/hot-checks.ts [--targets 1000] [--minutes 128] [--pg postgres://beacon@127.0.0.1:15432/postgres]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { pino } from 'pino';
import { Compactor } from '../src/monitor/compaction.ts';
import type { CheckRow } from '../src/monitor/model.ts';
import type { HttpTarget } from '../src/monitor/target.ts';
import { postgresStore } from '../src/roles/store-postgres.ts';
import type { BeaconStore } from '../src/roles/store.ts';
import { checkSeries } from './lib/check-series.ts';
import { scratchDatabase } from './lib/disk.ts';
import { Histogram } from './lib/percentiles.ts';
import { sampleTarget } from '../test/helpers/targets.ts';

const { values: args } = parseArgs({
  options: {
    targets: { type: 'string', default: '1000' },
    minutes: { type: 'string', default: '128' },
    pg: { type: 'string', default: 'postgres://beacon@127.0.0.1:15432/postgres' },
  },
});
const targets = Number(args.targets);
const minutes = Number(args.minutes);
const from = Date.UTC(2026, 0, 5);
const to = from + minutes * 60_000;
const DAY = 86_400_000;
const silent = pino({ level: 'silent' });

const checks = [...checkSeries({ targets, intervalSeconds: 60, from, to })];
const slots = new Map<number, CheckRow[]>();
for (const c of checks) {
  const slot = slots.get(c.slot);
  if (slot) slot.push(c);
  else slots.set(c.slot, [c]);
}
const ids = [...new Set(checks.map((c) => c.target))];
const tenant = checks[0]!.tenant;

const target = (id: string): HttpTarget => sampleTarget(id, { tenant });

const lines: string[] = [];
const out = (figure: string, value: string) => {
  lines.push(`| ${figure} | ${value} |`);
  console.log(`  ${figure}: ${value}`);
};

/**
 * Writes `batches` through the check writer, one transaction each; returns checks/s of the
 * transactions alone and with the VACUUMs. With `vacuumEvery`, a VACUUM of the hot table every that
 * many batches: what autovacuum does in a running server (a minute's sleep between passes, a table's
 * turn when a fifth of its rows are dead), which a run that writes hours of checks in seconds would not
 * see. Its time is the server's, in a worker of its own, not the sink's.
 */
async function write(
  store: BeaconStore,
  url: string,
  batches: readonly CheckRow[][],
  vacuumEvery = 0,
): Promise<{ writes: number; withVacuum: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    let writing = 0;
    let vacuuming = 0;
    let n = 0;
    for (const batch of batches) {
      const started = performance.now();
      await store.transaction((tx) => tx.checks.insert(batch));
      writing += performance.now() - started;
      if (vacuumEvery > 0 && ++n % vacuumEvery === 0) {
        const began = performance.now();
        await client.query('VACUUM monitor_hot_checks');
        vacuuming += performance.now() - began;
      }
    }
    return {
      writes: checks.length / (writing / 1000),
      withVacuum: checks.length / ((writing + vacuuming) / 1000),
    };
  } finally {
    await client.end();
  }
}

/** Bytes of the hot table at rest per check: heap, TOAST, indexes, and a tuple's average. */
async function atRest(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('VACUUM monitor_hot_checks');
    const { rows } = await client.query<{
      heap: string;
      toast: string;
      indexes: string;
      rows: string;
      tuple: number;
    }>(
      `SELECT pg_relation_size(c.oid) AS heap,
         coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0) AS toast,
         pg_indexes_size(c.oid) AS indexes,
         (SELECT count(*) FROM monitor_hot_checks) AS rows,
         (SELECT avg(pg_column_size(h.*))::float8 FROM monitor_hot_checks h) AS tuple
       FROM pg_class c WHERE c.relname = 'monitor_hot_checks'`,
    );
    const r = rows[0]!;
    const per = (n: string | number) => `${(Number(n) / checks.length).toFixed(1)} B`;
    out(
      'hot rows at rest per check, all (heap + TOAST + indexes)',
      per(Number(r.heap) + Number(r.toast) + Number(r.indexes)),
    );
    out('  of which heap', per(r.heap));
    out('  of which TOAST', per(r.toast));
    out('  of which indexes', per(r.indexes));
    out(
      '  rows; checks a row; tuple bytes a row (pg_column_size)',
      `${r.rows}; ${(checks.length / Number(r.rows)).toFixed(1)}; ${r.tuple.toFixed(1)}`,
    );
  } finally {
    await client.end();
  }
}

/** p50 and p99 of `runs` calls of `read`, in ms, after 5 not counted. */
async function timed(runs: number, read: (i: number) => Promise<unknown>): Promise<string> {
  for (let i = 0; i < 5; i++) await read(i);
  const h = new Histogram(0.01);
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await read(i);
    h.record(performance.now() - started);
  }
  return `p50 ${h.percentile(50).toFixed(2)} ms, p99 ${h.percentile(99).toFixed(2)} ms`;
}

async function run(
  label: string,
  batches: readonly CheckRow[][],
  reads: boolean,
  vacuumEvery = 0,
): Promise<void> {
  const db = await scratchDatabase(args.pg);
  const store = postgresStore({ url: db.url, maintenanceIntervalMs: 0 });
  try {
    await store.open();
    for (const id of ids) await store.targets.create(target(id));
    const rate = await write(store, db.url, batches, vacuumEvery);
    out(
      `${label}: checks written per second (tx.checks.insert; with the VACUUMs)`,
      `${Math.round(rate.writes).toLocaleString('en')}; ${Math.round(rate.withVacuum).toLocaleString('en')}`,
    );
    await atRest(db.url);
    if (!reads) return;
    const pick = (i: number) => ids[(i * 7919) % ids.length]!;
    out(
      'a page of 100 checks of one target, newest first',
      await timed(200, (i) => store.monitor.listChecks({ tenant, target: pick(i), limit: 100 })),
    );
    out(
      'a page of 100 checks of one target, from its middle (cursor)',
      await timed(200, (i) =>
        store.monitor.listChecks({
          tenant,
          target: pick(i),
          limit: 100,
          before: { scheduledAt: from + (to - from) / 2, region: '~' },
        }),
      ),
    );
    out(
      `every target's newest check (latestChecks, ${ids.length} targets)`,
      await timed(20, () => store.monitor.latestChecks(tenant)),
    );
    out(
      'an hour of minute rollups of one target (summed from its checks)',
      await timed(200, (i) =>
        store.monitor.rollups({
          tenant,
          target: pick(i),
          size: 'minute',
          from,
          to: Math.min(to, from + 3_600_000),
        }),
      ),
    );
    const started = performance.now();
    const done = await new Compactor({ store, periodMs: DAY, logger: silent }).run(to + DAY);
    const seconds = (performance.now() - started) / 1000;
    out(
      'compaction of every hot check into day blocks',
      `${Math.round(done.checks / seconds).toLocaleString('en')} checks/s`,
    );
  } finally {
    await store.close();
    await db.drop();
  }
}

console.log(
  `hot checks on PostgreSQL: ${ids.length} targets, ${checks.length.toLocaleString('en')} checks over ${minutes} min`,
);
const live = [...slots.values()];
const catchUp: CheckRow[][] = [];
for (let i = 0; i < checks.length; i += 5000) catchUp.push(checks.slice(i, i + 5000));
await run('live (a transaction a slot, a VACUUM every 3)', live, true, 3);
await run('catch-up (5,000 checks a transaction, a VACUUM every 3)', catchUp, false, 3);
console.log(
  `\n| figure | value |\n|---|---|\n${lines.join('\n')}\n\nload average ${loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')}`,
);
