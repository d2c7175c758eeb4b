import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCommit } from './group-commit.ts';

test('concurrent submits share one commit and each gets its own results in order', async () => {
  const commits: number[][] = [];
  const gc = new GroupCommit<number, number>(
    (items) => {
      commits.push([...items]);
      return items.map((n) => n * 10);
    },
    { maxQueue: 100 },
  );
  const [a, b, c] = await Promise.all([gc.submit([1, 2]), gc.submit([3]), gc.submit([4, 5, 6])]);
  assert.deepEqual(a, [10, 20]);
  assert.deepEqual(b, [30]);
  assert.deepEqual(c, [40, 50, 60]);
  assert.deepEqual(commits, [[1, 2, 3, 4, 5, 6]]);
});

test('a full queue refuses with LOG_BUSY and keeps what it holds', async () => {
  const gc = new GroupCommit<number, number>((items) => [...items], { maxQueue: 3 });
  const first = gc.submit([1, 2]);
  await assert.rejects(gc.submit([3, 4]), { code: 'LOG_BUSY', status: 503 });
  assert.deepEqual(await first, [1, 2]);
});

test('a failed commit rejects every waiter with LOG_UNAVAILABLE and its cause', async () => {
  const disk = new Error('disk full');
  const gc = new GroupCommit<number, number>(
    () => {
      throw disk;
    },
    { maxQueue: 10 },
  );
  const results = await Promise.allSettled([gc.submit([1]), gc.submit([2])]);
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    const reason = r.reason as { code: string; cause: unknown };
    assert.equal(reason.code, 'LOG_UNAVAILABLE');
    assert.equal(reason.cause, disk);
  }
});

test('close commits what was submitted and refuses the rest', async () => {
  const seen: number[] = [];
  const gc = new GroupCommit<number, number>(
    (items) => {
      seen.push(...items);
      return [...items];
    },
    { maxQueue: 10 },
  );
  const pending = gc.submit([7]);
  await gc.close();
  assert.deepEqual(seen, [7]);
  assert.deepEqual(await pending, [7]);
  await assert.rejects(gc.submit([8]), { code: 'SHUTTING_DOWN' });
});

test('items submitted while a commit is in flight go together in the next one, in order', async () => {
  const commits: number[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const gc = new GroupCommit<number, number>(
    async (items) => {
      commits.push([...items]);
      if (commits.length === 1) await gate;
      return [...items];
    },
    { maxQueue: 100 },
  );
  const first = gc.submit([1]);
  await new Promise((resolve) => setImmediate(resolve));
  const later = [gc.submit([2]), gc.submit([3, 4])];
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(commits, [[1]], 'nothing else starts while the first commit runs');
  release();
  assert.deepEqual(await Promise.all([first, ...later]), [[1], [2], [3, 4]]);
  assert.deepEqual(commits, [[1], [2, 3, 4]]);
});

test('with maxInFlight 2, a second commit goes out while the first is out, and a third waits', async () => {
  const commits: number[][] = [];
  const gates: (() => void)[] = [];
  const gc = new GroupCommit<number, number>(
    async (items) => {
      commits.push([...items]);
      await new Promise<void>((resolve) => gates.push(resolve));
      return [...items];
    },
    { maxQueue: 100, maxInFlight: 2 },
  );
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  const first = gc.submit([1]);
  await turn();
  const second = gc.submit([2]);
  await turn();
  const third = [gc.submit([3]), gc.submit([4])];
  await turn();
  assert.deepEqual(commits, [[1], [2]], 'two commits out, the third waits');
  gates[0]!();
  assert.deepEqual(await first, [1]);
  for (let turns = 0; turns < 10 && commits.length < 3; turns++) await turn();
  assert.deepEqual(commits, [[1], [2], [3, 4]]);
  gates[1]!();
  gates[2]!();
  assert.deepEqual(await Promise.all([second, ...third]), [[2], [3], [4]]);
  const closing = gc.close();
  assert.deepEqual(await Promise.all([closing]), [undefined]);
});

test('with maxWeight, a commit takes submissions up to that weight, and an overweight one alone', async () => {
  const commits: number[][] = [];
  const gc = new GroupCommit<number, number>(
    (items) => {
      commits.push([...items]);
      return items.map((n) => n);
    },
    { maxQueue: 100, weigh: (n) => n, maxWeight: 10 },
  );
  const results = await Promise.all([
    gc.submit([4, 4]), // 8
    gc.submit([2]), // 10: still fits
    gc.submit([20]), // heavier than the limit: goes alone
    gc.submit([1]),
    gc.submit([3, 3]),
  ]);
  assert.deepEqual(results, [[4, 4], [2], [20], [1], [3, 3]]);
  assert.deepEqual(commits, [[4, 4, 2], [20], [1, 3, 3]]);
});
