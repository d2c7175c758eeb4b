import { test } from 'node:test';
import assert from 'node:assert/strict';
import { call, cross, get } from './helpers/occupancy.ts';
import { freshDatabase } from './helpers/postgres.ts';
import { eventually, startTestBeacon } from './helpers/server.ts';

/**
 * A Beacon on PostgreSQL in this process, under concurrent management calls while its occupancy
 * alerts are judged every 100 ms (reading sensors' health, counts and series inside the alerting
 * transaction): no query may be issued on a connection that is still running another one. `pg`
 * warns of that (it will refuse it in pg 9); any such warning fails the test.
 */
const SENSORS = 120;
const ROOMS = 12;
const HOUR = 3_600_000;

test('occupancy on PostgreSQL never overlaps two queries on one connection, under concurrent writes and alerting', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => {
    if (/already executing a query/.test(w.message)) warnings.push(w);
  };
  process.on('warning', onWarning);
  const db = await freshDatabase();
  const beacon = await startTestBeacon({
    store: db.url,
    'occupancy.resetTime': '',
    'occupancy.timeZone': 'UTC',
    'occupancy.alertIntervalMs': 100,
    'occupancy.capacityAlertMinutes': 1,
    'occupancy.silentAfterMinutes': 60,
  });
  try {
    await call(beacon, 'POST', '/v1/spaces', { id: 'b', name: 'Building', capacity: 5 }, 201);
    await Promise.all(
      Array.from({ length: ROOMS }, (_, r) =>
        call(beacon, 'POST', '/v1/spaces', { id: `r${r}`, name: `Room ${r}`, parent: 'b', capacity: 1 }, 201),
      ),
    );
    // Every sensor is placed three hours ago, so those that send nothing turn silent.
    const from = new Date(Date.now() - 3 * HOUR).toISOString();
    await Promise.all(
      Array.from({ length: SENSORS }, async (_, i) => {
        await Promise.all([
          call(beacon, 'POST', '/v1/sensors', { id: `s${i}`, name: `s${i}` }, 201),
          call(
            beacon,
            'POST',
            '/v1/doorways',
            { id: `d${i}`, name: `d${i}`, a: `r${i % ROOMS}`, b: null },
            201,
          ),
        ]);
        await call(
          beacon,
          'POST',
          '/v1/placements',
          { sensor: `s${i}`, doorway: `d${i}`, positive: 'a', from },
          201,
        );
      }),
    );
    // Half the sensors count people in, while placements of the others are moved concurrently.
    const now = Date.now();
    const crossings = Array.from({ length: SENSORS / 2 }, (_, i) => ({
      sensor: `s${2 * i}`,
      ts: new Date(now - 60_000 + i).toISOString(),
      direction: 1 as const,
    }));
    await Promise.all([
      cross(beacon, crossings),
      ...Array.from({ length: SENSORS / 2 }, async (_, i) => {
        const { items } = await get<{ items: { id: string }[] }>(
          beacon,
          `/v1/placements?sensor=s${2 * i + 1}`,
        );
        await call(beacon, 'PATCH', `/v1/placements/${items[0]!.id}`, { positive: 'b' }, 200);
      }),
    ]);
    // The alerting passes judged every sensor: those that sent nothing are silent, the others resumed.
    await eventually(
      async () => {
        const { items } = await get<{ items: { subject: string; closedAt: string | null }[] }>(
          beacon,
          '/v1/occupancy-alerts?kind=silent&limit=200',
        );
        const open = items.filter((a) => a.closedAt === null).map((a) => Number(a.subject.slice(1)));
        return open.length === SENSORS / 2 && open.every((i) => i % 2 === 1) ? true : undefined;
      },
      30_000,
      'a silent alert for each sensor that sent nothing',
    );
    const counts = await get<{ count: number }>(beacon, '/v1/spaces/b/count');
    assert.equal(counts.count, SENSORS / 2, 'every crossing counted into the building');
    assert.deepEqual(
      warnings.map((w) => w.stack),
      [],
      'no query overlapped another on one connection',
    );
  } finally {
    process.off('warning', onWarning);
    await beacon.destroy();
    await db.drop();
  }
});
