/**
 * `GET /v1/spaces/:id/count?at=T` alone, on a PostgreSQL database an occupancy run kept
 * (`node bench/occupancy.ts --store postgres --keep`): the same 5,000 random spaces and times as the
 * full run, against a fresh Beacon on that database, without ingesting again (10 minutes at 10
 * million events). It prints p50 and p99 and the slowest counts (space, time), for EXPLAIN by hand.
 *
 *   node bench/occupancy-count.ts --db postgres://beacon@127.0.0.1:15432/NAME [--rounds N] [--slowest N]
 *
 * Each round asks the same counts; the first after a start reads what PostgreSQL's cache lacks.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Histogram } from './lib/percentiles.ts';
import { startServer } from './lib/server.ts';
import { random } from '../test/helpers/random.ts';

const FLOORS = 10;
const ROOMS_PER_FLOOR = 10;
const QUERIES = 5000;
const DAYS = 10;
const SPACES = [
  'building',
  ...Array.from({ length: FLOORS }, (_, f) => `floor-${f}`),
  ...Array.from(
    { length: FLOORS * ROOMS_PER_FLOOR },
    (_, r) => `room-${Math.floor(r / ROOMS_PER_FLOOR)}-${r % ROOMS_PER_FLOOR}`,
  ),
];

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    db: { type: 'string' },
    rounds: { type: 'string', default: '2' },
    slowest: { type: 'string', default: '10' },
  },
});
if (!values.db) throw new Error('--db postgres://… (a database kept by bench/occupancy.ts --keep)');

// The history's start: the first event (the full run spreads 10 days from there).
const client = new pg.Client({ connectionString: values.db });
await client.connect();
const { rows } = await client.query<{ first: string; events: string }>(
  'SELECT min(ts) AS first, count(*) AS events FROM occupancy_events',
);
await client.end();
const from = Number(rows[0]!.first);
const events = Number(rows[0]!.events);
const span = Math.ceil((DAYS * 86_400_000 * Math.min(events, 10_000_000)) / 10_000_000);

const server = await startServer({ flags: { store: values.db } });
try {
  for (let round = 1; round <= Number(values.rounds); round++) {
    const rnd = random(7);
    const histogram = new Histogram(0.01);
    const samples: [number, string, string][] = [];
    for (let i = 0; i < QUERIES; i++) {
      const space = SPACES[Math.floor(rnd() * SPACES.length)]!;
      const at = new Date(from + Math.floor(rnd() * span)).toISOString();
      const t0 = performance.now();
      await server.request(`/v1/spaces/${space}/count?at=${at}`);
      const ms = performance.now() - t0;
      histogram.record(ms);
      samples.push([ms, space, at]);
    }
    const s = histogram.summary();
    console.log(
      `round ${round}: ${events} events, count?at=T p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms, max ${s.max.toFixed(2)} ms (load ${loadavg()[0]!.toFixed(2)})`,
    );
    samples.sort((a, b) => b[0] - a[0]);
    for (const [ms, space, at] of samples.slice(0, Number(values.slowest)))
      console.log(`  ${ms.toFixed(2)} ms  ${space}  ${at}`);
  }
} finally {
  await server.close();
}
