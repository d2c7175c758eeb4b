import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { startFarm, type TargetFarm } from './helpers/farm.ts';
import { ADMIN_TOKEN, eventually, startTestBeacon, type TestBeacon } from './helpers/server.ts';

interface Event {
  type: string;
  target: string;
  cause: string;
  startedAt: string;
  endedAt: string | null;
  detail: string;
}

let farm: TargetFarm;
let beacon: TestBeacon;

before(async () => {
  farm = await startFarm({ tls: false });
  beacon = await startTestBeacon({ 'monitor.refreshMs': 200 });
});
after(async () => {
  await beacon.destroy();
  await farm.close();
});

// Notifications to people go through alert rules and the outbox (test/alerts.test.ts); live
// subscribers see each incident change as it is stored.
test('an incident is pushed on /v1/stream when it opens, then when it resolves', async () => {
  const ws = new WebSocket(beacon.url.replace('http', 'ws') + '/v1/stream?streams=checks&entity=flaky', {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  const frames: Event[] = [];
  ws.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString()) as { type: string; body?: Event };
    if (frame.type === 'record' && frame.body?.type?.startsWith('incident.')) frames.push(frame.body);
  });
  await new Promise((r) => ws.once('open', r));

  const created = await beacon.request('/v1/targets', {
    method: 'POST',
    json: {
      id: 'flaky',
      url: `http://127.0.0.1:${farm.closedPort}/`,
      intervalSeconds: 1,
      downAfter: 2,
      upAfter: 1,
    },
  });
  assert.equal(created.status, 201);
  const opened = await eventually(
    () => Promise.resolve(frames.find((f) => f.type === 'incident.opened')),
    15_000,
    'incident.opened frame',
  );
  assert.equal(opened.target, 'flaky');
  assert.equal(opened.cause, 'refused');
  assert.equal(opened.endedAt, null);

  await beacon.request('/v1/targets/flaky', { method: 'PATCH', json: { url: `${farm.http}/ok` } });
  const resolved = await eventually(
    () => Promise.resolve(frames.find((f) => f.type === 'incident.resolved')),
    15_000,
    'incident.resolved frame',
  );
  assert.equal(resolved.startedAt, opened.startedAt);
  assert.ok(resolved.endedAt !== null && resolved.endedAt > resolved.startedAt);
  ws.close();
});
