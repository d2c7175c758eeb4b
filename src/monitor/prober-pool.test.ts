import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { pagesOf, sampleTarget } from '../../test/helpers/targets.ts';
import { MonitorMetrics } from './metrics.ts';
import type { Check } from './model.ts';
import { ProberPool, threadOf } from './prober-pool.ts';
import { parseShard } from './schedule.ts';
import type { Target } from './target.ts';

/** A pool over `targets` with the test defaults (100 in flight, 4 a host, silent); `o` overrides. */
function testPool(
  targets: () => readonly Target[],
  o: Partial<ConstructorParameters<typeof ProberPool>[0]> & { threads: number },
): ProberPool {
  return new ProberPool({
    targets: () => pagesOf(targets, 3),
    emit: () => undefined,
    region: 'local',
    shard: parseShard('0/1'),
    concurrency: 100,
    perHost: 4,
    refreshMs: 60_000,
    metrics: new MonitorMetrics(new Registry()),
    logger: pino({ level: 'silent' }),
    probeContext: { lastPush: () => Promise.resolve(undefined), pingCommand: 'ping' },
    logLevel: 'silent',
    ...o,
  });
}

test('threads split targets by host: every target of a host is in the same thread', () => {
  const hosts = ['a.example', 'b.example', 'c.example', 'd.example:8443'];
  for (const threads of [2, 3, 4]) {
    const seen = new Map<string, Set<number>>();
    for (let i = 0; i < 200; i++) {
      const host = hosts[i % hosts.length]!;
      const t = sampleTarget(`t${i}`, { url: `https://${host}/p${i}` });
      const thread = threadOf(t, threads);
      assert.ok(thread >= 0 && thread < threads);
      seen.set(host, (seen.get(host) ?? new Set()).add(thread));
    }
    for (const [host, set] of seen) assert.equal(set.size, 1, `${host} is in one thread of ${threads}`);
  }
});

test(
  'a pool of prober threads checks each slot of each target once, within the per-host limit',
  { timeout: 120_000 },
  async () => {
    // Three hosts (loopback addresses), two targets each; every answer takes 200 ms.
    const running = new Map<string, number>();
    let mostAtOnce = 0;
    const server = http.createServer((req, res) => {
      const host = req.headers.host!;
      const now = (running.get(host) ?? 0) + 1;
      running.set(host, now);
      mostAtOnce = Math.max(mostAtOnce, now);
      setTimeout(() => {
        running.set(host, running.get(host)! - 1);
        res.end('ok');
      }, 200);
    });
    await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
    const { port } = server.address() as AddressInfo;
    const targets = [1, 2, 3].flatMap((h) =>
      ['x', 'y'].map((n) =>
        sampleTarget(`h${h}${n}`, {
          url: `http://127.0.0.${h}:${port}/${n}`,
          intervalSeconds: 1,
          timeoutMs: 1000,
        }),
      ),
    );
    const registry = new Registry();
    const checks: Check[] = [];
    const pool = testPool(() => targets, {
      emit: (record) => checks.push(record.body as Check),
      perHost: 1,
      metrics: new MonitorMetrics(registry),
      threads: 2,
    });
    await pool.start();
    try {
      assert.equal(pool.targetCount, 6, 'the threads together schedule every target');
      const perTarget = () =>
        new Map(targets.map((t) => [t.id, checks.filter((c) => c.target === t.id).length]));
      while ([...perTarget().values()].some((n) => n < 3)) await new Promise((r) => setTimeout(r, 100));
    } finally {
      await pool.stop();
      server.close();
    }
    const keys = checks.map((c) => `${c.target}@${c.scheduledAt}`);
    assert.equal(new Set(keys).size, keys.length, 'no slot of a target is checked twice');
    assert.ok(checks.every((c) => c.error === null));
    assert.equal(mostAtOnce, 1, 'never more than one check at once against one host');
    assert.match(await registry.metrics(), /beacon_monitor_checks_total\{outcome="up",class=""\} \d+/);
  },
);

test('a large target set reaches the threads in parts, and a refresh replaces it', async () => {
  // A day apart: no check falls due while the test runs.
  const many = (n: number) =>
    Array.from({ length: n }, (_, i) =>
      sampleTarget(`t${i}`, { url: `http://127.0.${i % 50}.1:9/t${i}`, intervalSeconds: 86_400 }),
    );
  let set = many(5_000);
  const pool = testPool(() => set, { threads: 3 });
  await pool.start();
  try {
    assert.equal(pool.targetCount, 5_000);
    set = many(1_200);
    await pool.refresh();
    assert.equal(pool.targetCount, 1_200, 'targets gone from the set stop in their thread');
  } finally {
    await pool.stop();
  }
});

test(
  'an auto-sized pool checks on the main thread, and moves to worker threads when the due rate needs them, checking no slot twice',
  { timeout: 120_000 },
  async () => {
    const server = http.createServer((_req, res) => setTimeout(() => res.end('ok'), 20));
    await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
    const { port } = server.address() as AddressInfo;
    // Six targets on three hosts, one check a second each.
    const busy = [1, 2, 3].flatMap((h) =>
      ['x', 'y'].map((n) =>
        sampleTarget(`h${h}${n}`, { url: `http://127.0.0.${h}:${port}/${n}`, intervalSeconds: 1 }),
      ),
    );
    let set = busy.slice(0, 2);
    const checks: Check[] = [];
    const pool = testPool(() => set, {
      emit: (record) => checks.push(record.body as Check),
      threads: 2,
      checksPerThread: 4,
    });
    await pool.start();
    try {
      assert.equal(pool.threads, 0, 'two checks a second: the main thread alone');
      await new Promise((r) => setTimeout(r, 2500));
      set = busy;
      await pool.refresh();
      assert.equal(pool.threads, 2, 'six checks a second, four a thread: two worker threads');
      assert.equal(pool.targetCount, 6);
      const perTarget = () => busy.map((t) => checks.filter((c) => c.target === t.id).length);
      while (perTarget().some((n) => n < 3)) await new Promise((r) => setTimeout(r, 100));
    } finally {
      await pool.stop();
      server.close();
    }
    const keys = checks.map((c) => `${c.target}@${c.slot}`);
    assert.equal(new Set(keys).size, keys.length, 'no slot of a target is checked twice');
    assert.deepEqual(
      checks.filter((c) => c.error !== null).map((c) => c.error),
      [],
    );
    // The targets that moved to the worker threads went on at their next slot.
    for (const t of busy) {
      const slots = checks.filter((c) => c.target === t.id).map((c) => c.slot);
      for (let i = 1; i < slots.length; i++)
        assert.equal(slots[i]! - slots[i - 1]!, 1, `${t.id} lets no slot pass`);
    }
  },
);
