import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
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
let receiver: http.Server;
const received: Event[] = [];
let requests = 0;

before(async () => {
  farm = await startFarm({ tls: false });
  // A webhook receiver that fails its first request, so delivery must retry.
  receiver = http.createServer((req, res) => {
    requests += 1;
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (requests === 1) return void res.writeHead(500).end();
      received.push(JSON.parse(body) as Event);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  beacon = await startTestBeacon({
    'monitor.refreshMs': 200,
    'monitor.webhookUrl': `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
    'monitor.webhookBackoffMs': 50,
  });
});
after(async () => {
  await beacon.destroy();
  await farm.close();
  await new Promise((r) => receiver.close(r));
});

test('an incident is pushed on /v1/stream and posted to the webhook (retried), then resolved', async () => {
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
  const posted = await eventually(
    () => Promise.resolve(received.find((e) => e.type === 'incident.opened')),
    10_000,
    'webhook',
  );
  assert.deepEqual(posted, { ...opened, tenant: 'default', region: 'local', detail: posted.detail });
  assert.ok(requests >= 2, 'the failed first POST was retried');

  await beacon.request('/v1/targets/flaky', { method: 'PATCH', json: { url: `${farm.http}/ok` } });
  const resolved = await eventually(
    () => Promise.resolve(received.find((e) => e.type === 'incident.resolved')),
    15_000,
    'resolved',
  );
  assert.equal(resolved.startedAt, opened.startedAt);
  assert.ok(resolved.endedAt !== null && resolved.endedAt > resolved.startedAt);
  await eventually(
    () => Promise.resolve(frames.find((f) => f.type === 'incident.resolved')),
    5_000,
    'resolved frame',
  );
  ws.close();

  const metrics = await (await beacon.request('/metrics')).text();
  assert.match(metrics, /beacon_monitor_webhook_deliveries_total\{outcome="retried"\} [1-9]/);
  assert.match(metrics, /beacon_monitor_webhook_deliveries_total\{outcome="delivered"\} [2-9]/);
});
