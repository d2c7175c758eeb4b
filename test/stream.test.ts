import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { createToken } from '../src/tenants/tokens.ts';
import { ADMIN_TOKEN, startTestBeacon, type TestBeacon } from './helpers/server.ts';
import { openStream } from './helpers/stream.ts';

describe('live stream', () => {
  let beacon: TestBeacon;
  before(async () => {
    beacon = await startTestBeacon();
  });
  after(() => beacon.destroy());

  test('an accepted message is pushed to subscribers the moment it is accepted', async () => {
    const { ws, next } = await openStream(beacon, '?streams=messages');
    await next((f) => f.type === 'hello');
    const res = await beacon.request('/v1/messages', { method: 'POST', json: { live: 1 } });
    const { id } = (await res.json()) as { id: string };
    const frame = await next((f) => f.type === 'record' && f.id === id);
    assert.equal(frame.stream, 'messages');
    assert.deepEqual(frame.body, { live: 1 });
    ws.close();
  });

  test('browsers authenticate with the bearer subprotocol and get beacon.v1 back', async () => {
    const { ws, next } = await openStream(beacon, '?streams=messages', { protocol: ADMIN_TOKEN });
    assert.equal(ws.protocol, 'beacon.v1');
    await beacon.request('/v1/messages', { method: 'POST', json: { via: 'subprotocol' } });
    const frame = await next((f) => f.type === 'record' && f.body?.via === 'subprotocol');
    assert.ok(frame.receivedAt);
    ws.close();
  });

  test('a wrong token is refused before the upgrade', async () => {
    const url = beacon.url.replace('http', 'ws') + '/v1/stream';
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(url, { headers: { authorization: 'Bearer nope' } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
    });
    assert.equal(status, 401);
  });

  test('subscribers see only their tenant and the streams they asked for', async () => {
    await beacon.store.tenants.ensure({ id: 'other', name: 'Other', createdAt: Date.now() });
    const other = await createToken(beacon.store.tenants, {
      tenant: 'other',
      name: 'o',
      scopes: ['read', 'ingest'],
    });
    const mine = await openStream(beacon, '?streams=messages');
    const theirs = await openStream(beacon, '?streams=messages', { header: other.secret });
    const checksOnly = await openStream(beacon, '?streams=checks');
    await beacon.request('/v1/messages', { method: 'POST', json: { tenant: 'default' } });
    await beacon.request('/v1/messages', { method: 'POST', json: { tenant: 'other' }, token: other.secret });
    await mine.next((f) => f.body?.tenant === 'default');
    await theirs.next((f) => f.body?.tenant === 'other');
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(mine.frames.every((f) => f.type !== 'record' || f.body?.tenant === 'default'));
    assert.ok(theirs.frames.every((f) => f.type !== 'record' || f.body?.tenant === 'other'));
    assert.ok(checksOnly.frames.every((f) => f.type !== 'record'));
    for (const s of [mine, theirs, checksOnly]) s.ws.close();
  });

  test('an unknown stream name is a 400', async () => {
    const url = beacon.url.replace('http', 'ws') + '/v1/stream?streams=bogus';
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
    });
    assert.equal(status, 400);
  });
});

describe('slow subscribers', () => {
  test('a subscriber that does not read loses frames but never slows ingest or other subscribers', async () => {
    const beacon = await startTestBeacon({ 'live.bufferBytes': 4096 });
    try {
      const fast = await openStream(beacon, '?streams=messages');
      const slow = await openStream(beacon, '?streams=messages');
      // Stop reading: the server's send buffer to this socket fills up.
      (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const ids: string[] = [];
      for (let b = 0; b < 20; b++) {
        const res = await beacon.request('/v1/messages/batch', {
          method: 'POST',
          json: Array.from({ length: 100 }, (_, i) => ({ pad: 'x'.repeat(2000), n: b * 100 + i })),
        });
        assert.equal(res.status, 202);
        ids.push(...((await res.json()) as { items: { id: string }[] }).items.map((i) => i.id));
      }
      const last = ids.at(-1)!;
      await fast.next((f) => f.id === last);
      assert.equal(
        fast.frames.filter((f) => f.type === 'record').length,
        2000,
        'the fast subscriber got every record',
      );
      const metrics = await (await beacon.request('/metrics', { token: null })).text();
      const dropped = Number(/beacon_live_dropped_frames_total (\d+)/.exec(metrics)?.[1]);
      assert.ok(dropped > 0, 'frames to the slow subscriber were dropped');
      (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      // Once it reads again and its buffer drains, the next frame it gets is preceded by how many it lost.
      const notified = slow.next((f) => f.type === 'dropped');
      const poke = setInterval(
        () => void beacon.request('/v1/messages', { method: 'POST', json: { after: 'resume' } }),
        100,
      );
      const notice = await notified.finally(() => clearInterval(poke));
      assert.ok((notice as { count?: number }).count! > 0);
      fast.ws.close();
      slow.ws.close();
    } finally {
      await beacon.destroy();
    }
  });
});
