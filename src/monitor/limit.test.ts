import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConcurrencyLimit } from './limit.ts';

test('never runs more than the global and per-host limits, and runs everything', async () => {
  const limit = new ConcurrencyLimit({ global: 4, perHost: 2 });
  const running = new Map<string, number>();
  let peak = 0;
  let peakHost = 0;
  const releases: (() => void)[] = [];
  const done: Promise<void>[] = [];
  for (let i = 0; i < 20; i++) {
    const host = `h${i % 3}`;
    done.push(
      limit.run(host, async () => {
        running.set(host, (running.get(host) ?? 0) + 1);
        peak = Math.max(peak, limit.running);
        peakHost = Math.max(peakHost, running.get(host)!);
        await new Promise<void>((r) => releases.push(r));
        running.set(host, running.get(host)! - 1);
      }),
    );
  }
  assert.equal(limit.running, 4);
  assert.equal(limit.waiting, 16);
  while (releases.length > 0) {
    releases.shift()!();
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(done);
  assert.equal(peak, 4);
  assert.equal(peakHost, 2);
  assert.equal(limit.running, 0);
});

test('a host at its limit does not hold back other hosts', async () => {
  const limit = new ConcurrencyLimit({ global: 10, perHost: 1 });
  let release!: () => void;
  const slow = limit.run('a', () => new Promise<void>((r) => (release = r)));
  const queued = limit.run('a', () => Promise.resolve('a2'));
  const other = await limit.run('b', () => Promise.resolve('b1'));
  assert.equal(other, 'b1');
  release();
  await slow;
  assert.equal(await queued, 'a2');
});
