import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import type { LogRecord } from '../log/record.ts';
import { Metrics } from '../observability/metrics.ts';
import { LiveHub, type SubscriberSocket } from './hub.ts';

class FakeSocket implements SubscriberSocket {
  sent: string[] = [];
  bufferedAmount = 0;
  readyState = 1;
  closed: { code?: number | undefined; reason?: string | undefined } | undefined;
  pings = 0;
  terminated = false;
  send(data: Buffer, options: { binary: false }): void {
    assert.equal(options.binary, false, 'frames go out as text');
    this.sent.push(data.toString());
  }
  close(code?: number, reason?: string): void {
    this.closed = { code, reason };
    this.readyState = 3;
  }
  terminate(): void {
    this.terminated = true;
  }
  ping(): void {
    this.pings += 1;
  }
  frames(): { type: string; id?: string; count?: number }[] {
    return this.sent.map((s) => JSON.parse(s) as { type: string });
  }
}

let offset = 0;
function record(patch: Partial<LogRecord> = {}): LogRecord {
  offset += 1;
  return {
    stream: 'messages',
    tenant: 't1',
    key: `k${offset}`,
    entity: 'e1',
    id: `id${offset}`,
    ts: 0,
    receivedAt: 0,
    body: { n: offset },
    partition: 0,
    offset,
    ...patch,
  };
}

const hub = (patch: Partial<ConstructorParameters<typeof LiveHub>[0]> = {}) =>
  new LiveHub({ bufferBytes: 10_000, slowPolicy: 'drop', metrics: new Metrics(), ...patch });

test('subscribers get only their tenant, streams and entity', async () => {
  const h = hub();
  const all = new FakeSocket();
  const other = new FakeSocket();
  const checksOnly = new FakeSocket();
  const entityOnly = new FakeSocket();
  h.subscribe(all, { tenant: 't1', streams: new Set(['messages', 'checks']) });
  h.subscribe(other, { tenant: 't2', streams: new Set(['messages']) });
  h.subscribe(checksOnly, { tenant: 't1', streams: new Set(['checks']) });
  h.subscribe(entityOnly, { tenant: 't1', streams: new Set(['messages']), entity: 'e2' });
  h.publish([record(), record({ entity: 'e2' }), record({ stream: 'checks' }), record({ tenant: 't2' })]);
  assert.equal(all.sent.length, 0, 'delivery is deferred, never inside publish');
  await tick();
  assert.equal(all.sent.length, 3);
  assert.equal(other.sent.length, 1);
  assert.equal(checksOnly.sent.length, 1);
  assert.equal(entityOnly.sent.length, 1);
});

test('a slow subscriber loses frames, is told how many, and others are unaffected', async () => {
  const h = hub({ bufferBytes: 1000 });
  const slow = new FakeSocket();
  const fast = new FakeSocket();
  h.subscribe(slow, { tenant: 't1', streams: new Set(['messages']) });
  h.subscribe(fast, { tenant: 't1', streams: new Set(['messages']) });
  slow.bufferedAmount = 5000;
  h.publish([record(), record(), record()]);
  await tick();
  assert.equal(slow.sent.length, 0);
  assert.equal(fast.sent.length, 3);
  slow.bufferedAmount = 0;
  h.publish([record()]);
  await tick();
  assert.deepEqual(
    slow.frames().map((f) => f.type),
    ['dropped', 'record'],
  );
  assert.equal(slow.frames()[0]!.count, 3);
});

test('with the disconnect policy a slow subscriber is closed with 1013', async () => {
  const h = hub({ bufferBytes: 1000, slowPolicy: 'disconnect' });
  const slow = new FakeSocket();
  h.subscribe(slow, { tenant: 't1', streams: new Set(['messages']) });
  slow.bufferedAmount = 5000;
  h.publish([record()]);
  await tick();
  assert.equal(slow.closed?.code, 1013);
  assert.equal(h.size, 0);
});

test('heartbeat pings, and terminates a subscriber that missed the last ping', () => {
  const h = hub();
  const quiet = new FakeSocket();
  const lively = new FakeSocket();
  h.subscribe(quiet, { tenant: 't1', streams: new Set(['messages']) });
  h.subscribe(lively, { tenant: 't1', streams: new Set(['messages']) });
  h.heartbeat();
  h.pong(lively);
  h.heartbeat();
  assert.equal(quiet.terminated, true);
  assert.equal(lively.terminated, false);
  assert.equal(lively.pings, 2);
  assert.equal(h.size, 1);
});

test('a large fleet is served in rounds that let other work run between them, in order', async () => {
  const h = hub({ sliceMs: 0 });
  const sockets = Array.from({ length: 1_000 }, () => new FakeSocket());
  for (const socket of sockets) h.subscribe(socket, { tenant: 't1', streams: new Set(['messages']) });
  const records = [record(), record(), record()];
  h.publish(records);
  let ranBetween = false;
  setImmediate(() => (ranBetween = sockets.at(-1)!.sent.length < records.length));
  for (let i = 0; i < 100 && sockets.at(-1)!.sent.length < records.length; i++) await tick();
  assert.ok(ranBetween, 'other callbacks ran before delivery finished');
  for (const socket of sockets) {
    assert.deepEqual(
      socket.frames().map((f) => f.id),
      records.map((r) => r.id),
    );
  }
});

/** A socket whose sends pile up while corked and reach the peer at uncork, as a TCP socket's do. */
class CorkedSocket extends FakeSocket {
  corks = 0;
  writes = 0;
  #corked = false;
  override send(data: Buffer, options: { binary: false }): void {
    super.send(data, options);
    if (this.#corked) this.bufferedAmount += data.length;
    else this.writes += 1;
  }
  readonly raw = {
    cork: () => {
      this.corks += 1;
      this.#corked = true;
    },
    uncork: () => {
      this.#corked = false;
      this.bufferedAmount = 0;
      this.writes += 1;
    },
  };
}

test('frames waiting for one subscriber go out in one write, and corked bytes do not count as unsent', async () => {
  for (const [bufferBytes, writes] of [
    [10_000, 1],
    // Each frame passes a 100-byte bound by itself, so the turn is pushed out frame by frame.
    [100, 5],
  ] as const) {
    const h = hub({ bufferBytes });
    const socket = new CorkedSocket();
    h.subscribe(socket, { tenant: 't1', streams: new Set(['messages']) }, socket.raw);
    const records = Array.from({ length: 5 }, () => record({ body: { pad: 'x'.repeat(60) } }));
    h.publish(records);
    await tick();
    assert.deepEqual(
      socket.frames().map((f) => f.id),
      records.map((r) => r.id),
      'nothing dropped: the subscriber had nothing unsent before this turn',
    );
    assert.equal(socket.writes, writes, `bound ${bufferBytes}`);
  }
});

test('a record whose frame cannot be built fails alone: the rest of its commit is delivered', async () => {
  const failed: string[] = [];
  const h = hub({ onError: (_err, r) => failed.push(r.id) });
  const socket = new FakeSocket();
  h.subscribe(socket, { tenant: 't1', streams: new Set(['messages']) });
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const [before, bad, after] = [record(), record({ body: cyclic }), record()];
  h.publish([before, bad, after]);
  await tick();
  assert.deepEqual(
    socket.frames().map((f) => (f.type === 'record' ? f.id : `${f.type}:${f.count}`)),
    [before.id, 'dropped:1', after.id],
  );
  assert.deepEqual(failed, [bad.id]);
});

test('a frame carries the body as the record holds it, spliced in as its JSON text', async () => {
  const h = hub();
  const socket = new FakeSocket();
  h.subscribe(socket, { tenant: 't1', streams: new Set(['messages']) });
  h.publish([record({ body: undefined, bodyJson: '{"big":123456789012345678901234567890}' })]);
  await tick();
  assert.match(socket.sent[0]!, /"body":\{"big":123456789012345678901234567890\}\}$/);
});
