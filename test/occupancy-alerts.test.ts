import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, startTestBeacon, type TestBeacon } from './helpers/server.ts';
import { call, cross, get, model } from './helpers/occupancy.ts';

/** A webhook receiver on loopback: records every event, answering the next `failing` of them 500. */
class Receiver {
  readonly events: { type: string; id: string; subject: { id: string }; detail: Record<string, unknown> }[] =
    [];
  failing = 0;
  /** Only events of this type fail (others, such as a sensor's silence, are let through). */
  failingType: string | undefined;
  readonly #server: Server;
  url = '';

  constructor() {
    this.#server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (req.method !== 'POST' || req.headers['content-type'] !== 'application/json') {
          res.writeHead(400).end();
          return;
        }
        const event = JSON.parse(body) as Receiver['events'][number];
        if (this.failing > 0 && (this.failingType === undefined || this.failingType === event.type)) {
          this.failing -= 1;
          res.writeHead(500).end('not now');
          return;
        }
        this.events.push(event);
        res.writeHead(204).end();
      });
    });
  }
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`;
  }
  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
  of(type: string, subject: string) {
    return this.events.filter((e) => e.type === type && e.subject.id === subject);
  }
  /** The events of a type and subject received so far, or undefined while none: for `eventually`. */
  received(type: string, subject: string) {
    const events = this.of(type, subject);
    return Promise.resolve(events.length > 0 ? events : undefined);
  }
}

const HOUR = 3_600_000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
/** A weekday that is neither today nor yesterday in UTC. */
const otherDay = () => ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][(new Date().getUTCDay() + 3) % 7]!;

let receiver: Receiver;
let beacon: TestBeacon;
const dataDir = mkdtempSync(join(tmpdir(), 'beacon-occ-alerts-'));
const flags = () => ({
  'occupancy.resetTime': '',
  'occupancy.timeZone': 'UTC',
  'occupancy.alertWebhookUrl': receiver.url,
  'occupancy.alertIntervalMs': 150,
  'occupancy.capacityAlertMinutes': 1,
  'occupancy.silentAfterMinutes': 60,
});

before(async () => {
  receiver = new Receiver();
  await receiver.start();
  beacon = await startTestBeacon(flags(), dataDir);
  // The closed room opens only on a day that is neither today nor yesterday: its sensor is never
  // silent. Its hours come with it, before any sensor is placed there for the alerts to judge.
  await model(beacon, {
    spaces: [
      { id: 'room' },
      { id: 'closed-room', openHours: [{ days: [otherDay()], from: '00:00', to: '23:59' }] },
    ],
    doorways: [
      { id: 'door', a: 'room', b: null },
      { id: 'back', a: 'room', b: null },
      { id: 'shutter', a: 'closed-room', b: null },
      { id: 'drifty', a: 'closed-room', b: null },
    ],
    sensors: ['s', 'quiet', 'night', 'd'],
    placements: [
      { sensor: 's', doorway: 'door', positive: 'a', from: ago(3 * HOUR) },
      { sensor: 'quiet', doorway: 'back', positive: 'a', from: ago(3 * HOUR) },
      { sensor: 'night', doorway: 'shutter', positive: 'a', from: ago(3 * HOUR) },
      { sensor: 'd', doorway: 'drifty', positive: 'b', from: ago(72 * HOUR) },
    ],
  });
});
after(async () => {
  await beacon?.destroy();
  await receiver?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a space over capacity for its N minutes alerts through the outbox, retrying a failing webhook, and resolves', async () => {
  await call(beacon, 'PATCH', '/v1/spaces/room', { capacity: 2, alertAfterMinutes: 1 }, 200);
  // Only the capacity alert's first delivery fails: another alert sent meanwhile must not take the 500.
  receiver.failingType = 'occupancy.capacity.exceeded';
  receiver.failing = 1;
  await cross(beacon, [
    { sensor: 's', ts: ago(3 * 60_000), direction: 1 },
    { sensor: 's', ts: ago(3 * 60_000 - 1), direction: 1 },
    { sensor: 's', ts: ago(3 * 60_000 - 2), direction: 1 },
  ]);
  const [exceeded] = await eventually(
    () => receiver.received('occupancy.capacity.exceeded', 'room'),
    20_000,
    'the capacity alert',
  );
  assert.deepEqual([exceeded!.detail.capacity, exceeded!.detail.count, exceeded!.detail.minutes], [2, 3, 1]);
  const alerts = await get<{ items: { id: string; kind: string; closedAt: string | null }[] }>(
    beacon,
    '/v1/occupancy-alerts?kind=capacity',
  );
  assert.equal(alerts.items.length, 1);
  assert.equal(alerts.items[0]!.closedAt, null);
  // The first delivery failed (500), the second went through; both attempts are on record.
  const sent = await get<{
    items: { type: string; attempts: number; deliveredAt: string | null; lastError: string | null }[];
  }>(beacon, '/v1/occupancy-notifications');
  const notification = sent.items.find((n) => n.type === 'occupancy.capacity.exceeded')!;
  assert.equal(notification.attempts, 2);
  assert.ok(notification.deliveredAt);
  receiver.failingType = undefined;
  // Back within capacity: resolved, once.
  await cross(beacon, [{ sensor: 's', ts: ago(1000), direction: -1 }]);
  await eventually(() => receiver.received('occupancy.capacity.resolved', 'room'), 20_000, 'the resolution');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(
    receiver.of('occupancy.capacity.exceeded', 'room').length,
    1,
    'one alert, however many passes ran',
  );
  const closed = await get<{ items: { closedAt: string | null }[] }>(
    beacon,
    '/v1/occupancy-alerts?kind=capacity',
  );
  assert.ok(closed.items[0]!.closedAt);
});

test('a placed sensor with nothing for its open hours is silent, and sends again; a closed space keeps its sensor quiet', async () => {
  await eventually(() => receiver.received('occupancy.sensor.silent', 'quiet'), 20_000, 'the silent alert');
  const health = await get<{
    items: { sensor: string; status: string; lastEventAt: string | null; silentForMs: number }[];
  }>(beacon, '/v1/sensor-health');
  const status = Object.fromEntries(health.items.map((h) => [h.sensor, h.status]));
  assert.deepEqual(status, { d: 'ok', night: 'ok', quiet: 'silent', s: 'ok' });
  assert.equal(
    health.items.find((h) => h.sensor === 'night')!.silentForMs,
    0,
    'no open time since its placement',
  );
  assert.equal(receiver.of('occupancy.sensor.silent', 'night').length, 0);
  await cross(beacon, [{ sensor: 'quiet', ts: ago(500), direction: 1 }]);
  await eventually(() => receiver.received('occupancy.sensor.resumed', 'quiet'), 20_000, 'the resumed event');
  const room = await get<{
    sensors: { sensor: string; status: string; lastEventAt: string }[];
    doorways: { doorway: string }[];
  }>(beacon, '/v1/spaces/room/health');
  assert.deepEqual(room.sensors.map((h) => [h.sensor, h.status]).sort(), [
    ['quiet', 'ok'],
    ['s', 'ok'],
  ]);
  assert.deepEqual(room.doorways.map((d) => d.doorway).sort(), ['back', 'door']);
});

test('a doorway whose people in and out drift apart over a day is flagged and notified once', async () => {
  // Yesterday (UTC): 20 in and 5 out through a sensor whose +1 goes out (positive side b).
  const yesterday = new Date(
    Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() - 1, 10),
  );
  const events = [
    ...Array.from({ length: 20 }, (_, i) => ({
      sensor: 'd',
      ts: new Date(yesterday.getTime() + i * 1000).toISOString(),
      direction: -1 as const,
    })),
    ...Array.from({ length: 5 }, (_, i) => ({
      sensor: 'd',
      ts: new Date(yesterday.getTime() + 60_000 + i * 1000).toISOString(),
      direction: 1 as const,
    })),
  ];
  // Before the beacon judges yesterday again, it must not have judged it: restart it with the events in.
  await cross(beacon, events);
  await beacon.close();
  beacon = await startTestBeacon(flags(), dataDir);
  const [drift] = await eventually(
    () => receiver.received('occupancy.doorway.drift', 'drifty'),
    20_000,
    'the drift notice',
  );
  assert.deepEqual([drift!.detail.in, drift!.detail.out], [20, 5]);
  const days = await get<{
    items: { doorway: string; days: { in: number; out: number; flagged: boolean; complete: boolean }[] }[];
  }>(beacon, '/v1/doorway-drift?days=2');
  const drifty = days.items.find((d) => d.doorway === 'drifty')!;
  assert.deepEqual(
    drifty.days.map((d) => [d.in, d.out, d.complete, d.flagged]),
    [
      [20, 5, true, true],
      [0, 0, false, false],
    ],
  );
  const door = days.items.find((d) => d.doorway === 'door')!;
  assert.ok(door.days.every((d) => !d.flagged));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(receiver.of('occupancy.doorway.drift', 'drifty').length, 1);
});

test('a notification queued while the receiver is down is delivered after a restart', async () => {
  receiver.failing = 1_000_000;
  await call(beacon, 'PATCH', '/v1/spaces/room', { capacity: null }, 200);
  // The open capacity alert (if any) closes; a silent alert for 'night' cannot happen; so force one:
  await call(beacon, 'PATCH', '/v1/spaces/closed-room', { openHours: null }, 200);
  await eventually(
    async () => {
      const list = await get<{ items: { type: string; attempts: number; deliveredAt: string | null }[] }>(
        beacon,
        '/v1/occupancy-notifications',
      );
      const n = list.items.find((i) => i.type === 'occupancy.sensor.silent' && i.deliveredAt === null);
      return n && n.attempts >= 1 ? true : undefined;
    },
    20_000,
    'a failed attempt',
  );
  await beacon.close();
  receiver.failing = 0;
  beacon = await startTestBeacon(flags(), dataDir);
  await eventually(
    () => receiver.received('occupancy.sensor.silent', 'night'),
    30_000,
    'the delivery after restart',
  );
});
