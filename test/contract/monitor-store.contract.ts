import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { LogRecord } from '../../src/log/record.ts';
import { Compactor } from '../../src/monitor/compaction.ts';
import { checkKey, type CheckRow, type Rollup } from '../../src/monitor/model.ts';
import { checkProjection } from '../../src/monitor/projection.ts';
import { addToRollups, LATENCY_BOUNDS_MS, summarize } from '../../src/monitor/rollup.ts';
import type { HttpSpec, HttpTarget } from '../../src/monitor/target.ts';
import type { BeaconStore } from '../../src/roles/store.ts';
import type { StoreContractTarget } from './store.contract.ts';
import { quietContext } from '../helpers/projection.ts';
import { gather, sampleTarget } from '../helpers/targets.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** A fixed midnight (UTC), so buckets and day partitions fall where the test expects. */
const T0 = Date.UTC(2026, 2, 10);

const spec = (patch: Partial<HttpSpec> = {}): HttpSpec => ({
  kind: 'http',
  url: 'https://example.test/health',
  intervalSeconds: 60,
  timeoutMs: 10_000,
  method: 'GET',
  headers: { 'x-probe': 'beacon' },
  expectStatus: ['200-399'],
  patternMustMatch: true,
  maxRedirects: 0,
  maxBodyBytes: 1_048_576,
  ignoreTlsErrors: false,
  downAfter: 3,
  upAfter: 2,
  tags: ['web'],
  assertions: [],
  tlsExpiryDays: [21, 14, 7],
  ...patch,
});

const target = (id: string, patch: Partial<HttpTarget> = {}): HttpTarget => ({
  ...spec(),
  id,
  tenant: 't1',
  source: 'api',
  createdAt: T0,
  updatedAt: T0,
  ...patch,
});

/** A check of `target` in `region` for the slot starting at `at` (a minute interval). */
const check = (targetId: string, at: number, patch: Partial<CheckRow> = {}): CheckRow => ({
  tenant: 't1',
  target: targetId,
  region: 'eu',
  slot: Math.floor(at / MINUTE),
  scheduledAt: at,
  startedAt: at + 7,
  durationMs: 42.25,
  phases: { dnsMs: 1.5, connectMs: 2.25, tlsMs: 10.125, ttfbMs: 20, transferMs: 8.375 },
  status: 200,
  httpVersion: '1.1',
  bytes: 1234,
  tlsExpiresAt: T0 + 90 * DAY,
  patternMatched: true,
  redirects: 0,
  ok: true,
  error: null,
  ...patch,
});

const failed = (targetId: string, at: number, patch: Partial<CheckRow> = {}): CheckRow =>
  check(targetId, at, {
    ok: false,
    status: 503,
    durationMs: 1200,
    patternMatched: null,
    error: { class: 'status', detail: 'status 503, "Service, Unavailable"\n\ttab \\ ünïcødé ✓' },
    ...patch,
  });

/** The monitor engineer's fixtures for the first contract tests (integer-second slots). */
const basicTarget = sampleTarget;

const basicCheck = (scheduledAt: number, region = 'eu', ok = true): CheckRow => ({
  tenant: 't1',
  target: 'a',
  region,
  slot: scheduledAt / 1000,
  scheduledAt,
  startedAt: scheduledAt + 5,
  ok,
  durationMs: 12.5,
  phases: { dnsMs: 1, connectMs: 2, tlsMs: 3, ttfbMs: 4, transferMs: 2.5 },
  status: ok ? 200 : 503,
  httpVersion: '1.1',
  bytes: 42,
  tlsExpiresAt: 1_800_000_000_000,
  patternMatched: ok ? true : null,
  redirects: 0,
  error: ok ? null : { class: 'status', detail: 'status 503' },
});

let offset = 0;
/** Checks as the log delivers them to the sink. */
const records = (checks: readonly CheckRow[]): LogRecord[] =>
  checks.map((c) => {
    const { tenant, ...body } = c;
    return {
      stream: 'checks',
      tenant,
      key: checkKey(c),
      entity: c.target,
      id: `00000000-0000-7000-8000-${String(offset).padStart(12, '0')}`,
      ts: c.scheduledAt,
      receivedAt: c.startedAt,
      body,
      partition: 0,
      offset: offset++,
    };
  });

const project = (store: BeaconStore, checks: readonly CheckRow[]) =>
  store.transaction((tx) => checkProjection.apply(tx, records(checks), quietContext(store)));

const latency = (...pairs: [bound: number, n: number][]) => {
  const counts = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  for (const [bound, n] of pairs) counts[LATENCY_BOUNDS_MS.findIndex((b) => b === bound)] = n;
  return counts;
};

/** Every page of a target's checks, following the cursor as the API does. */
async function allChecks(
  store: BeaconStore,
  targetId: string,
  limit: number,
  bounds = {},
): Promise<CheckRow[]> {
  const out: CheckRow[] = [];
  let before: { scheduledAt: number; region: string } | undefined;
  for (;;) {
    const page = await store.monitor.listChecks({ tenant: 't1', target: targetId, limit, before, ...bounds });
    out.push(...page);
    if (page.length < limit) return out;
    const last = page.at(-1)!;
    before = { scheduledAt: last.scheduledAt, region: last.region };
  }
}

/** Compacts what ended before `horizon`, in blocks of a day, as the background pass would. */
const compact = (store: BeaconStore, horizon: number) =>
  new Compactor({ store, periodMs: DAY, logger: pino({ level: 'silent' }) }).run(horizon);

/**
 * Hour blocks as released versions wrote them for a day still open, which users' stores still hold:
 * each hour of [from, to) of every series folded into an encoded block of its own, hour by hour.
 * Compaction no longer writes them; it must merge them into their day, each check once.
 */
async function hourBlocks(store: BeaconStore, from: number, to: number): Promise<number> {
  const candidates = await store.transaction((tx) => tx.checks.compactionCandidates(0, 1000, DAY));
  let blocks = 0;
  for (let hour = from; hour < to; hour += HOUR) {
    const done = await store.transaction((tx) =>
      tx.checks.compact(candidates.map((c) => ({ series: c.series.id, from: hour, to: hour + HOUR }))),
    );
    blocks += done.filter(Boolean).length;
  }
  return blocks;
}

/** Every answer a user can get about target `a` (and the tenant's newest checks), to compare. */
async function answers(store: BeaconStore, to: number) {
  const range = { from: T0, to };
  const rollups = async (size: 'minute' | 'hour' | 'day') =>
    store.monitor.rollups({ tenant: 't1', target: 'a', size, from: T0 - DAY, to: to + DAY });
  return {
    pages: await Promise.all([7, 100, 1000].map((limit) => allChecks(store, 'a', limit))),
    ranged: await allChecks(store, 'a', 50, { from: T0 + 30 * MINUTE, to: T0 + DAY + 90 * MINUTE }),
    tail: await allChecks(store, 'a', 13, range),
    latest: await store.monitor.latestChecks('t1'),
    minutes: await rollups('minute'),
    hours: await rollups('hour'),
    days: await rollups('day'),
    incidents: await store.monitor.listIncidents('t1', 'a', 100),
  };
}

/** Minute-interval checks of `a` (two regions) and `b` over [from, to): failures, missed slots, every field. */
function history(from: number, to: number): CheckRow[] {
  const out: CheckRow[] = [];
  for (let at = from, i = 0; at < to; at += MINUTE, i++) {
    if (i % 97 === 5) continue; // a missed slot now and then
    const down = i % 180 >= 170;
    out.push(
      down
        ? failed('a', at, { durationMs: 10_000 + (i % 3), error: { class: 'timeout', detail: 'no answer' } })
        : check('a', at, {
            durationMs: 40 + ((i * 37) % 23) + (i % 100) / 100,
            startedAt: at + (i % 9),
            bytes: 1234 + (i % 5),
            phases: {
              dnsMs: 1.5,
              connectMs: 2 + (i % 4) / 100,
              tlsMs: 10.125,
              ttfbMs: 20 + (i % 11),
              transferMs: 8.375,
            },
          }),
    );
    if (i % 3 === 0) out.push(check('a', at, { region: 'us', durationMs: 90 + (i % 13) }));
    if (i % 5 === 0) out.push(check('b', at, { ok: i % 50 !== 0 }));
  }
  return out;
}

/**
 * The monitor's store behaviour every backend must show, with the same answers: run once per backend.
 * Checks go through the real check projection where the sink would use it.
 */
/** A backend of the monitor store contract. */
export interface MonitorStoreContractTarget extends StoreContractTarget {
  /** Rewrites every block of `store` as the store held it before version 22: its data whole in its row. */
  wholeBlocks(store: BeaconStore): Promise<void>;
}

export function runMonitorStoreContract(backend: MonitorStoreContractTarget): void {
  const skipped = (name: string) => backend.skip?.find((s) => s.test === name)?.reason;
  const it = (name: string, fn: (store: BeaconStore) => Promise<void>): void =>
    void test(name, { skip: skipped(name) ?? false }, async () => {
      const store = await backend.create();
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    });

  describe(`Monitor store contract: ${backend.name}`, () => {
    it('targets are tenant-scoped, created once, updated, deleted and paged by id', async (store) => {
      assert.equal(await store.targets.create(basicTarget('b')), true);
      assert.equal(await store.targets.create(basicTarget('a')), true);
      assert.equal(await store.targets.create(basicTarget('a')), false);
      assert.equal(await store.targets.create(basicTarget('a', { tenant: 't2' })), true);
      assert.deepEqual(
        (await store.monitor.listTargets('t1', 10)).map((t) => t.id),
        ['a', 'b'],
      );
      assert.deepEqual(
        (await store.monitor.listTargets('t1', 10, 'a')).map((t) => t.id),
        ['b'],
      );
      assert.equal(
        await store.targets.update('t1', 'a', { ...basicTarget('a'), intervalSeconds: 5 }, 2),
        true,
      );
      assert.equal((await store.monitor.getTarget('t1', 'a'))?.intervalSeconds, 5);
      assert.equal((await store.monitor.getTarget('t2', 'a'))?.intervalSeconds, 60);
      assert.equal(await store.targets.delete('t1', 'b'), true);
      assert.equal(await store.monitor.getTarget('t1', 'b'), undefined);
      assert.equal((await gather(store.monitor.targetPages(1))).length, 2);
    });

    it("a prober's pages of targets hold every tenant's targets once, in (tenant, id) order, whatever the page size", async (store) => {
      const ids = ['a', 'a-1', 'b', 'a.b', 'Z', 'a_'];
      for (const tenant of ['t2', 't1'])
        for (const id of ids) assert.equal(await store.targets.create(basicTarget(id, { tenant })), true);
      // Byte order, as the primary key sorts them: upper case before lower, '-' and '.' before '_'.
      const expected = ['t1', 't2'].flatMap((tenant) => [...ids].sort().map((id) => `${tenant}/${id}`));
      for (const size of [1, 2, 5, 12, 13, 500]) {
        const pages: string[][] = [];
        for await (const page of store.monitor.targetPages(size))
          pages.push(page.map((t) => `${t.tenant}/${t.id}`));
        assert.deepEqual(pages.flat(), expected, `pages of ${size}`);
        assert.ok(
          pages.every((p) => p.length > 0 && p.length <= size),
          `pages of ${size}: none empty or over size`,
        );
        assert.equal(pages.length, Math.ceil(expected.length / size), `pages of ${size}: no extra page`);
      }
      // Pages are read as they are iterated: a target written behind them is missed (the next refresh
      // reads it), one ahead of them is read.
      const seen: string[] = [];
      for await (const page of store.monitor.targetPages(3)) {
        if (seen.length === 0) {
          await store.targets.create(basicTarget('0', { tenant: 't1' }));
          await store.targets.create(basicTarget('zz', { tenant: 't2' }));
        }
        seen.push(...page.map((t) => `${t.tenant}/${t.id}`));
      }
      assert.deepEqual(seen, [...expected, 't2/zz']);
      assert.equal((await gather(store.monitor.targetPages())).length, expected.length + 2);
    });

    it('targets are searched, filtered by state, tag and kind, counted, and listed with their current check', async (store) => {
      await store.targets.create(target('api-eu', { name: 'Shop API', tags: ['shop', 'eu'] }));
      await store.targets.create(target('api-us', { url: 'https://US.example.test/', tags: ['shop'] }));
      await store.targets.create(target('quiet', { paused: true, tags: ['eu'] }));
      await store.targets.create({
        ...basicTarget('db'),
        ...{ kind: 'tcp', host: 'db.internal', port: 5432, tls: false, ignoreTlsErrors: false },
        ...{ tlsExpiryDays: [], tags: [] },
      } as unknown as HttpTarget);
      await store.targets.create(target('never', { tags: [] }));
      await store.targets.create(target('other', { tenant: 't2' }));
      await store.transaction(async (tx) => {
        await tx.checks.insert([check('api-eu', T0), check('api-eu', T0 + MINUTE, { region: 'us' })]);
        await tx.checks.insert([failed('api-us', T0), check('db', T0, { state: 'degraded' })]);
        await tx.checks.insert([check('quiet', T0)]);
      });
      // An older check and a same-slot check of a later region do not replace the current one.
      await store.transaction((tx) =>
        tx.checks.insert([failed('api-eu', T0 - MINUTE), failed('api-eu', T0 + MINUTE, { region: 'zz' })]),
      );
      const ids = async (f: Omit<Parameters<typeof store.monitor.searchTargets>[0], 'tenant' | 'limit'>) => {
        const listed = await store.monitor.searchTargets({ tenant: 't1', limit: 10, ...f });
        const n = await store.monitor.countTargets({ tenant: 't1', ...f, after: undefined } as never);
        if (f.after === undefined) assert.equal(n, listed.length, `count of ${JSON.stringify(f)}`);
        return listed.map((l) => l.target.id);
      };
      assert.deepEqual(await ids({}), ['api-eu', 'api-us', 'db', 'never', 'quiet']);
      assert.deepEqual(await ids({ after: 'api-us' }), ['db', 'never', 'quiet']);
      assert.deepEqual(await ids({ q: 'SHOP' }), ['api-eu'], 'by name, case-insensitive');
      assert.deepEqual(await ids({ q: 'us.example' }), ['api-us'], 'by URL');
      assert.deepEqual(await ids({ q: 'db.int' }), ['db'], 'by host');
      assert.deepEqual(await ids({ q: 'api-' }), ['api-eu', 'api-us'], 'by id');
      assert.deepEqual(await ids({ q: 'shop api"' }), [], 'text JSON escapes is searched too');
      assert.deepEqual(await ids({ q: 'TTPS://US' }), ['api-us']);
      assert.deepEqual(await ids({ state: 'up' }), ['api-eu']);
      assert.deepEqual(await ids({ state: 'down' }), ['api-us']);
      assert.deepEqual(await ids({ state: 'degraded' }), ['db']);
      assert.deepEqual(await ids({ state: 'unknown' }), ['never']);
      assert.deepEqual(await ids({ state: 'paused' }), ['quiet']);
      assert.deepEqual(await ids({ tag: 'eu' }), ['api-eu', 'quiet']);
      assert.deepEqual(await ids({ kind: 'tcp' }), ['db']);
      assert.deepEqual(await ids({ kind: 'http', tag: 'shop', q: 'us' }), ['api-us']);
      const [first] = await store.monitor.searchTargets({ tenant: 't1', limit: 1 });
      assert.equal(first!.target.name, 'Shop API');
      assert.deepEqual(first!.current, check('api-eu', T0 + MINUTE, { region: 'us' }));
      const never = await store.monitor.searchTargets({ tenant: 't1', limit: 1, q: 'never' });
      assert.equal(never[0]!.current, undefined);
      // Deleting a target forgets its current check: made again, it has none.
      await store.targets.delete('t1', 'api-eu');
      await store.targets.create(target('api-eu'));
      assert.equal((await store.monitor.searchTargets({ tenant: 't1', limit: 1 }))[0]!.current, undefined);
    });

    it("a page of targets' hour and day rollups is read in one call", async (store) => {
      const checks = [check('a', T0), check('b', T0 + HOUR), failed('c', T0)];
      await store.transaction((tx) =>
        tx.checks.putRollups(addToRollups([], checks).filter((r) => r.size !== 'minute')),
      );
      const hours = await store.monitor.rollupsOf('t1', ['a', 'b', 'x'], 'hour', T0, T0 + DAY);
      assert.deepEqual(
        hours.map((r) => `${r.target}@${r.start}:${r.checks}/${r.up}`),
        [`a@${T0}:1/1`, `b@${T0 + HOUR}:1/1`],
      );
      for (const target of ['a', 'b']) {
        assert.deepEqual(
          hours.filter((r) => r.target === target),
          await store.monitor.rollups({ tenant: 't1', target, size: 'hour', from: T0, to: T0 + DAY }),
        );
      }
      const days = await store.monitor.rollupsOf('t1', ['c'], 'day', T0, T0 + DAY);
      assert.deepEqual(
        days.map((r) => `${r.target}@${r.start}:${r.checks}/${r.up}`),
        [`c@${T0}:1/0`],
      );
      assert.deepEqual(await store.monitor.rollupsOf('t1', [], 'day', T0, T0 + DAY), []);
      assert.deepEqual(await store.monitor.rollupsOf('t2', ['a'], 'day', T0, T0 + DAY), []);
    });

    it('the targets version changes with every create, update and delete, and only then', async (store) => {
      let last = await store.monitor.targetsVersion();
      const changed = async (what: string) => {
        const v = await store.monitor.targetsVersion();
        assert.notEqual(v, last, `${what}: the version did not change`);
        last = v;
      };
      await store.targets.create(basicTarget('a', { updatedAt: 10 }));
      await changed('create');
      assert.equal(await store.monitor.targetsVersion(), last, 'unchanged without a write');
      await store.targets.create(basicTarget('b', { updatedAt: 10 }));
      await changed('a second target with the same update time');
      await store.targets.update('t1', 'a', basicTarget('a', { intervalSeconds: 5 }), 20);
      await changed('update');
      await store.targets.delete('t1', 'b');
      await changed('delete');
      await store.targets.replaceFileTargets([basicTarget('f', { source: 'file', updatedAt: 30 })]);
      await changed('file targets replaced');
      await store.targets.replaceFileTargets([]);
      await changed('file targets removed');
    });

    it('file targets are replaced as a set and never touch API targets', async (store) => {
      await store.targets.create(basicTarget('api'));
      await store.targets.replaceFileTargets([
        basicTarget('f1', { source: 'file' }),
        basicTarget('f2', { source: 'file' }),
      ]);
      const second = await store.targets.replaceFileTargets([
        basicTarget('f2', { source: 'file', intervalSeconds: 10 }),
      ]);
      assert.deepEqual(second, { upserted: 1, deleted: 1 });
      const ids = (await gather(store.monitor.targetPages(1))).map((t) => `${t.id}:${t.source}`).sort();
      assert.deepEqual(ids, ['api:api', 'f2:file']);
      assert.equal(await store.targets.sourceOf('t1', 'f2'), 'file');
    });

    it('a check is stored once per (target, region, slot) and listed newest first with every field', async (store) => {
      const fresh = await store.transaction((tx) =>
        tx.checks.insert([basicCheck(1000), basicCheck(2000), basicCheck(2000, 'us')]),
      );
      assert.equal(fresh.length, 3);
      const again = await store.transaction((tx) =>
        tx.checks.insert([basicCheck(2000), basicCheck(3000, 'eu', false)]),
      );
      assert.deepEqual(
        again.map((c) => c.scheduledAt),
        [3000],
      );
      const listed = await store.monitor.listChecks({ tenant: 't1', target: 'a', limit: 10 });
      assert.deepEqual(
        listed.map((c) => `${c.scheduledAt}/${c.region}`),
        ['3000/eu', '2000/us', '2000/eu', '1000/eu'],
      );
      assert.deepEqual(listed[3], basicCheck(1000));
      assert.deepEqual(listed[0], basicCheck(3000, 'eu', false));
      const page = await store.monitor.listChecks({
        tenant: 't1',
        target: 'a',
        limit: 10,
        before: { scheduledAt: 2000, region: 'us' },
      });
      assert.deepEqual(
        page.map((c) => `${c.scheduledAt}/${c.region}`),
        ['2000/eu', '1000/eu'],
      );
      assert.equal(await store.transaction((tx) => tx.checks.deleteChecksBefore(2000)), 1);
    });

    it('rollups, states and incidents round-trip', async (store) => {
      await store.targets.create(basicTarget('a', { downAfter: 4, upAfter: 1 }));
      const rollup = {
        tenant: 't1',
        target: 'a',
        region: 'eu',
        size: 'hour' as const,
        start: 3_600_000,
        checks: 2,
        up: 1,
        latencySumMs: 30.5,
        latency: [0, 1, 1],
        errors: { status: 1 },
      };
      await store.transaction(async (tx) => {
        await tx.checks.putRollups([rollup]);
        await tx.checks.putStates([
          {
            tenant: 't1',
            target: 'a',
            region: 'eu',
            down: true,
            streak: 1,
            fails: 3,
            slow: 0,
            streakStart: 5,
            lastScheduledAt: 6,
            incidentStart: 5,
          },
        ]);
        await tx.checks.openIncident({
          tenant: 't1',
          target: 'a',
          region: 'eu',
          startedAt: 5,
          endedAt: null,
          cause: 'refused',
          detail: 'ECONNREFUSED',
        });
        assert.deepEqual(await tx.checks.getRollups([rollup]), [rollup]);
        assert.deepEqual(
          new Map(
            [...(await tx.checks.targetFacts('t1', ['a', 'gone']))].map(([id, f]) => [
              id,
              [f.downAfter, f.upAfter],
            ]),
          ),
          new Map([['a', [4, 1]]]),
        );
        assert.equal(
          (await tx.checks.getStates([{ tenant: 't1', target: 'a', region: 'eu' }]))[0]?.incidentStart,
          5,
        );
        await tx.checks.closeIncident({ tenant: 't1', target: 'a', region: 'eu', startedAt: 5 }, 9);
      });
      assert.deepEqual(
        await store.monitor.rollups({ tenant: 't1', target: 'a', size: 'hour', from: 0, to: 7_200_000 }),
        [rollup],
      );
      const [incident] = await store.monitor.listIncidents('t1', 'a', 10);
      assert.deepEqual(incident, {
        tenant: 't1',
        target: 'a',
        region: 'eu',
        startedAt: 5,
        endedAt: 9,
        cause: 'refused',
        detail: 'ECONNREFUSED',
      });
    });
    it('targets: create once per (tenant, id), read back whole, update, delete, list by keyset', async (store) => {
      const a = target('a', { name: 'Home "page", quoted', body: 'x=1\ny=2', pattern: 'ok|up' });
      assert.equal(await store.targets.create(a), true);
      assert.equal(await store.targets.create({ ...a, url: 'https://other.test' }), false, 'id taken');
      assert.equal(await store.targets.create({ ...a, tenant: 't2' }), true, 'another tenant');
      assert.deepEqual(await store.monitor.getTarget('t1', 'a'), a);
      assert.equal(await store.monitor.getTarget('t1', 'nope'), undefined);
      assert.equal(await store.targets.sourceOf('t1', 'a'), 'api');
      assert.equal(await store.targets.sourceOf('t1', 'nope'), undefined);

      const changed = spec({ url: 'https://example.test/v2', intervalSeconds: 30, downAfter: 5 });
      assert.equal(await store.targets.update('t1', 'a', changed, T0 + 5), true);
      assert.equal(await store.targets.update('t1', 'nope', changed, T0 + 5), false);
      assert.deepEqual(await store.monitor.getTarget('t1', 'a'), {
        ...changed,
        id: 'a',
        tenant: 't1',
        source: 'api',
        createdAt: T0,
        updatedAt: T0 + 5,
      });
      assert.deepEqual(
        await store.monitor.getTarget('t2', 'a'),
        { ...a, tenant: 't2' },
        'the other tenant is untouched',
      );

      // Ids in byte order (capitals before lower case, as SQLite compares), paged by keyset.
      for (const id of ['b', 'B', 'a-1', 'a.1', 'z', 'Z_9', 'é']) await store.targets.create(target(id));
      const ids: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await store.monitor.listTargets('t1', 3, after);
        ids.push(...page.map((t) => t.id));
        if (page.length < 3) break;
        after = page.at(-1)!.id;
      }
      assert.deepEqual(ids, ['B', 'Z_9', 'a', 'a-1', 'a.1', 'b', 'z', 'é']);
      assert.deepEqual(
        (await gather(store.monitor.targetPages(1))).map((t) => `${t.tenant}/${t.id}`),
        [...ids.map((id) => `t1/${id}`), 't2/a'],
      );

      assert.equal(await store.targets.delete('t2', 'B'), false);
      assert.equal(await store.targets.delete('t1', 'B'), true);
      assert.equal(await store.targets.delete('t1', 'B'), false);
      assert.equal(await store.monitor.getTarget('t1', 'B'), undefined);
      assert.deepEqual(await store.monitor.listTargets('t3', 10), []);
    });

    it('the targets file: upserts what changed, deletes what left, never touches API targets', async (store) => {
      await store.targets.create(target('api-one'));
      const file = (id: string, patch: Partial<HttpSpec> = {}) =>
        target(id, { ...spec(patch), source: 'file', createdAt: T0 + 1, updatedAt: T0 + 1 });
      assert.deepEqual(await store.targets.replaceFileTargets([file('f1'), file('f2'), file('f3')]), {
        upserted: 3,
        deleted: 0,
      });
      // f1 unchanged (not rewritten), f2 changed, f3 left the file, f4 is new, api-one stays an API target.
      const later = (id: string, patch: Partial<HttpSpec> = {}) => ({
        ...file(id, patch),
        createdAt: T0 + 2,
        updatedAt: T0 + 2,
      });
      // Any iterable, iterated once: a targets file hands its targets over from a compact form.
      const once = function* () {
        yield later('f1');
        yield later('f2', { intervalSeconds: 10, timeoutMs: 5000 });
        yield later('f4');
        yield later('api-one', { url: 'https://hijack.test' });
      };
      assert.deepEqual(await store.targets.replaceFileTargets(once()), { upserted: 2, deleted: 1 });
      assert.deepEqual(await store.monitor.getTarget('t1', 'f1'), file('f1'));
      assert.deepEqual(await store.monitor.getTarget('t1', 'f2'), {
        ...file('f2', { intervalSeconds: 10, timeoutMs: 5000 }),
        updatedAt: T0 + 2,
      });
      assert.equal(await store.monitor.getTarget('t1', 'f3'), undefined);
      assert.deepEqual(await store.monitor.getTarget('t1', 'api-one'), target('api-one'));
      assert.equal(await store.targets.sourceOf('t1', 'f4'), 'file');
      assert.deepEqual(await store.targets.replaceFileTargets([]), { upserted: 0, deleted: 3 });
      assert.deepEqual(
        (await gather(store.monitor.targetPages(1))).map((t) => t.id),
        ['api-one'],
      );
    });

    it('a load of file targets is set aside batch by batch, unseen until committed, and a discarded one changes nothing', async (store) => {
      await store.targets.create(target('api-one'));
      const file = (id: string, at: number, patch: Partial<HttpSpec> = {}) =>
        target(id, { ...spec(patch), source: 'file', createdAt: at, updatedAt: at });
      const ids = (await gather(store.monitor.targetPages())).map((t) => t.id);
      // More than a page of the store's own (500), in the batches a targets file is read in.
      const first = Array.from({ length: 1234 }, (_, i) => file(`f${String(i).padStart(4, '0')}`, T0));
      const load = await store.targets.loadFileTargets();
      for (let i = 0; i < first.length; i += 32) {
        await load.add(first.slice(i, i + 32));
        if (i === 640)
          assert.deepEqual(
            (await gather(store.monitor.targetPages())).map((t) => t.id),
            ids,
          );
      }
      // Added again (a file that falls back to a whole-document parse hands its targets on twice): once.
      await load.add([file('f0007', T0, { intervalSeconds: 30 }), file('api-one', T0)]);
      assert.equal(await store.monitor.getTarget('t1', 'f0000'), undefined, 'unseen until committed');
      assert.deepEqual(await load.commit(), { upserted: 1234, deleted: 0 });
      await load.discard(); // a no-op once committed
      await assert.rejects(load.add([file('late', T0)]), /over/);
      assert.equal((await gather(store.monitor.targetPages())).length, 1235);
      assert.equal((await store.monitor.getTarget('t1', 'f0007'))?.intervalSeconds, 30);
      assert.deepEqual(await store.monitor.getTarget('t1', 'api-one'), target('api-one'));

      // A load that fails part way (a bad item late in the file) is discarded: nothing changes.
      const failed = await store.targets.loadFileTargets();
      await failed.add([file('f0001', T0 + 1, { intervalSeconds: 10 }), file('new', T0 + 1)]);
      await failed.discard();
      assert.equal((await store.monitor.getTarget('t1', 'f0001'))?.intervalSeconds, 60);
      assert.equal(await store.monitor.getTarget('t1', 'new'), undefined);

      // One load at a time: a second starts once the first is over, and sees none of its batches.
      const a = await store.targets.loadFileTargets();
      await a.add([file('a-only', T0 + 2)]);
      const starting = store.targets.loadFileTargets();
      await a.commit();
      const b = await starting;
      await b.add([file('b-only', T0 + 3)]);
      assert.deepEqual(await b.commit(), { upserted: 1, deleted: 1 });
      assert.deepEqual(
        (await gather(store.monitor.targetPages())).map((t) => t.id),
        ['api-one', 'b-only'],
      );
    });

    it('checks are stored once per (tenant, target, region, slot) and read back exactly', async (store) => {
      const first = [
        check('a', T0),
        failed('a', T0 + MINUTE, { tlsExpiresAt: null, httpVersion: null, status: null, bytes: 0 }),
        check('a', T0, { region: 'us', patternMatched: false, durationMs: 0.5 }),
        check('a', T0, { startedAt: T0 + 999 }), // the same identity twice in one batch: first wins
        check('a', T0, { tenant: 't2' }),
        check('b', T0 + 2 * MINUTE, { startedAt: T0 + 2 * MINUTE + 0.25 }),
      ];
      const fresh = await store.transaction((tx) => tx.checks.insert(first));
      assert.deepEqual(fresh, [first[0], first[1], first[2], first[4], first[5]]);
      // A redundant agent's and a redelivered record's rows are dropped; only new ones come back.
      const again = [check('a', T0, { startedAt: T0 + 50 }), first[1]!, check('a', T0 + 3 * MINUTE)];
      assert.deepEqual(await store.transaction((tx) => tx.checks.insert(again)), [again[2]]);
      assert.deepEqual(await store.transaction((tx) => tx.checks.insert([])), []);

      assert.deepEqual(await store.monitor.listChecks({ tenant: 't1', target: 'a', limit: 10 }), [
        again[2],
        first[1],
        first[2],
        first[0],
      ]);
      assert.deepEqual(await store.monitor.listChecks({ tenant: 't2', target: 'a', limit: 10 }), [first[4]]);
      assert.deepEqual(await store.monitor.listChecks({ tenant: 't1', target: 'b', limit: 10 }), [first[5]]);
    });

    it('a failed transaction stores no checks, rollups or incidents', async (store) => {
      await store.targets.create(target('a', { downAfter: 1 }));
      await assert.rejects(
        store.transaction(async (tx) => {
          await checkProjection.apply(tx, records([failed('a', T0)]), quietContext(store));
          throw new Error('sink failed');
        }),
        /sink failed/,
      );
      assert.deepEqual(await store.monitor.listChecks({ tenant: 't1', target: 'a', limit: 10 }), []);
      assert.deepEqual(
        await store.monitor.rollups({ tenant: 't1', target: 'a', size: 'day', from: 0, to: T0 + DAY }),
        [],
      );
      assert.deepEqual(await store.monitor.listIncidents('t1', 'a', 10), []);
      // The retry stores it once.
      assert.equal(await project(store, [failed('a', T0)]), 1);
      assert.equal((await store.monitor.listIncidents('t1', 'a', 10)).length, 1);
    });

    it('rollups count only checks that were really new', async (store) => {
      await store.targets.create(target('a'));
      const batch = [
        check('a', T0, { durationMs: 4 }),
        check('a', T0 + MINUTE, { durationMs: 30 }),
        failed('a', T0 + 2 * MINUTE, { durationMs: 1200 }),
        check('a', T0 + MINUTE, { region: 'us', durationMs: 30 }),
      ];
      assert.equal(await project(store, batch), 4);
      // Redelivered (whole and in part, mixed with one new check): only the new one counts.
      assert.equal(await project(store, [...batch, check('a', T0 + HOUR, { durationMs: 7 })]), 1);
      assert.equal(await project(store, batch), 0);

      const hours = await store.monitor.rollups({
        tenant: 't1',
        target: 'a',
        size: 'hour',
        from: T0,
        to: T0 + DAY,
      });
      const expected: Rollup[] = [
        {
          tenant: 't1',
          target: 'a',
          region: 'eu',
          size: 'hour',
          start: T0,
          checks: 3,
          up: 2,
          latencySumMs: 1234,
          latency: latency([5, 1], [50, 1], [1500, 1]),
          errors: { status: 1 },
        },
        {
          tenant: 't1',
          target: 'a',
          region: 'us',
          size: 'hour',
          start: T0,
          checks: 1,
          up: 1,
          latencySumMs: 30,
          latency: latency([50, 1]),
          errors: {},
        },
        {
          tenant: 't1',
          target: 'a',
          region: 'eu',
          size: 'hour',
          start: T0 + HOUR,
          checks: 1,
          up: 1,
          latencySumMs: 7,
          latency: latency([10, 1]),
          errors: {},
        },
      ];
      assert.deepEqual(hours, expected);
      const minutes = await store.monitor.rollups({
        tenant: 't1',
        target: 'a',
        size: 'minute',
        from: T0 + MINUTE,
        to: T0 + 2 * MINUTE,
      });
      assert.deepEqual(
        minutes.map((r) => [r.start, r.region, r.checks]),
        [
          [T0 + MINUTE, 'eu', 1],
          [T0 + MINUTE, 'us', 1],
        ],
        'from inclusive, to exclusive, ordered by start then region',
      );
      const [day] = await store.monitor.rollups({
        tenant: 't1',
        target: 'a',
        size: 'day',
        from: T0,
        to: T0 + 1,
      });
      assert.deepEqual([day?.checks, day?.up], [4, 3], 'the day rollup is kept per region');

      // The rollup rows a sink reads back for merging: each key once, absent keys skipped.
      const keys = [
        { tenant: 't1', target: 'a', region: 'eu', size: 'hour' as const, start: T0 },
        { tenant: 't1', target: 'a', region: 'eu', size: 'hour' as const, start: T0 },
        { tenant: 't1', target: 'a', region: 'us', size: 'hour' as const, start: T0 },
        { tenant: 't1', target: 'a', region: 'asia', size: 'hour' as const, start: T0 },
      ];
      assert.deepEqual(await store.transaction((tx) => tx.checks.getRollups(keys)), expected.slice(0, 2));
    });

    it('summaries and uptime come out the same from the stored rollups', async (store) => {
      await store.targets.create(target('a'));
      await store.targets.create(target('b'));
      const checks: CheckRow[] = [];
      for (let i = 0; i < 120; i++) {
        const at = T0 + i * MINUTE;
        checks.push(
          i % 10 === 3
            ? failed('a', at, { error: { class: i % 20 === 3 ? 'timeout' : 'status', detail: '' } })
            : check('a', at, { durationMs: 10 + (i % 7) * 40 }),
        );
        if (i % 30 === 0) checks.push(check('a', at, { region: 'us', durationMs: 900 }));
      }
      for (let i = 0; i < checks.length; i += 25) await project(store, checks.slice(i, i + 25));
      await project(store, [check('b', T0 + 5 * MINUTE), failed('b', T0 + 9 * MINUTE, { region: 'us' })]);

      const rollups = await store.monitor.rollups({
        tenant: 't1',
        target: 'a',
        size: 'hour',
        from: T0,
        to: T0 + DAY,
      });
      const { buckets, total } = summarize(rollups, { tenant: 't1', target: 'a', size: 'hour' });
      assert.deepEqual(
        buckets.map((b) => [b.start, b.checks, b.up]),
        [
          [T0, 62, 56],
          [T0 + HOUR, 62, 56],
        ],
      );
      assert.equal(total.checks, 124);
      assert.equal(total.uptime, 90.3226);
      assert.deepEqual(total.errors, { timeout: 6, status: 6 });
      assert.deepEqual(total.latencyMs, { avg: 256.77, p50: 150, p95: 1500, p99: 1500 });

      // The newest check of each target (all regions at that slot), in target order.
      const latest = await store.monitor.latestChecks('t1');
      assert.deepEqual(
        latest.map((c) => [c.target, c.region, c.scheduledAt, c.ok]),
        [
          ['a', 'eu', T0 + 119 * MINUTE, true],
          ['b', 'us', T0 + 9 * MINUTE, false],
        ],
      );
      assert.deepEqual(await store.monitor.latestChecks('t2'), []);
    });

    it('checks page newest first by (scheduledAt, region) keyset, with from and to', async (store) => {
      const regions = ['us', 'eu', 'ap', 'EU'];
      const all: CheckRow[] = [];
      for (let i = 0; i < 30; i++) {
        for (const region of regions) {
          if ((i + region.length) % 3 !== 0) all.push(check('a', T0 + i * MINUTE, { region }));
        }
      }
      all.push(check('other', T0));
      await store.transaction((tx) => tx.checks.insert([...all].reverse()));
      const own = all.filter((c) => c.target === 'a');
      const order = [...own].sort((x, y) =>
        x.scheduledAt === y.scheduledAt ? (x.region < y.region ? 1 : -1) : y.scheduledAt - x.scheduledAt,
      );
      for (const limit of [1, 4, 7, 1000])
        assert.deepEqual(await allChecks(store, 'a', limit), order, `${limit}`);
      const from = T0 + 5 * MINUTE;
      const to = T0 + 12 * MINUTE;
      assert.deepEqual(
        await allChecks(store, 'a', 5, { from, to }),
        order.filter((c) => c.scheduledAt >= from && c.scheduledAt < to),
      );
      assert.deepEqual(await allChecks(store, 'a', 5, { to: T0 }), []);
      // A cursor far outside any stored time is answered, not refused.
      assert.deepEqual(
        await store.monitor.listChecks({
          tenant: 't1',
          target: 'a',
          limit: 2,
          before: { scheduledAt: 8.64e15, region: '' },
        }),
        order.slice(0, 2),
      );
    });

    it('incidents open after downAfter failures, close after upAfter successes, newest first', async (store) => {
      await store.targets.create(target('a', { downAfter: 2, upAfter: 2 }));
      const at = (i: number) => T0 + i * MINUTE;
      // Down at 1-2 (opens at 1), up at 3-4 (closes at 3); down again from 6 on, still open.
      const run = [
        check('a', at(0)),
        failed('a', at(1)),
        failed('a', at(2), { error: { class: 'timeout', detail: 'late' } }),
        check('a', at(3)),
        check('a', at(4)),
        failed('a', at(6), { error: { class: 'dns', detail: 'ENOTFOUND' } }),
      ];
      await project(store, run.slice(0, 3));
      await project(store, run.slice(2, 5)); // overlaps: the redelivered check moves nothing
      await project(store, [...run.slice(5), failed('a', at(7)), failed('a', at(7), { region: 'us' })]);
      const incidents = await store.monitor.listIncidents('t1', 'a', 10);
      // Dated from the first failure; the cause is that of the check that opened it.
      const base = { tenant: 't1', target: 'a', region: 'eu' };
      assert.deepEqual(incidents, [
        { ...base, startedAt: at(6), endedAt: null, cause: 'status', detail: run[1]!.error!.detail },
        { ...base, startedAt: at(1), endedAt: at(3), cause: 'timeout', detail: 'late' },
      ]);
      assert.deepEqual(await store.monitor.listIncidents('t1', 'a', 1, at(6)), [incidents[1]]);
      assert.deepEqual(await store.monitor.listIncidents('t1', 'a', 10, at(1)), []);
      const states = await store.transaction((tx) =>
        tx.checks.getStates([
          { tenant: 't1', target: 'a', region: 'us' },
          { tenant: 't1', target: 'a', region: 'eu' },
          { tenant: 't1', target: 'a', region: 'eu' },
          { tenant: 't1', target: 'nope', region: 'eu' },
        ]),
      );
      assert.deepEqual(states, [
        {
          tenant: 't1',
          target: 'a',
          region: 'us',
          down: false,
          streak: 1,
          fails: 1,
          slow: 0,
          streakStart: at(7),
          lastScheduledAt: at(7),
          incidentStart: null,
        },
        {
          tenant: 't1',
          target: 'a',
          region: 'eu',
          down: true,
          streak: 0,
          fails: 2,
          slow: 0,
          streakStart: at(6),
          lastScheduledAt: at(7),
          incidentStart: at(6),
        },
      ]);
      const facts = await store.transaction((tx) => tx.checks.targetFacts('t1', ['nope', 'a']));
      assert.deepEqual(
        [...facts].map(([id, f]) => [id, f.downAfter, f.upAfter, f.kind]),
        [['a', 2, 2, 'http']],
      );

      // Every open and close takes the next change seq, so a notifier follows changes in order:
      // the first incident opened (1) and closed (2), the second opened (3).
      assert.equal(await store.monitor.lastIncidentSeq(), 3);
      assert.deepEqual(await store.monitor.incidentChanges(0, 10), [
        { ...incidents[1]!, seq: 2 },
        { ...incidents[0]!, seq: 3 },
      ]);
      assert.deepEqual(await store.monitor.incidentChanges(2, 10), [{ ...incidents[0]!, seq: 3 }]);
      assert.deepEqual(await store.monitor.incidentChanges(0, 1), [{ ...incidents[1]!, seq: 2 }]);
      assert.deepEqual(await store.monitor.incidentChanges(3, 10), []);
    });

    it('retention deletes raw checks before a time, a whole day at a time where it can, and keeps rollups', async (store) => {
      await store.targets.create(target('a'));
      const checks: CheckRow[] = [];
      for (let day = 0; day < 5; day++) {
        for (const h of [0, 6, 12, 18]) checks.push(check('a', T0 + day * DAY + h * HOUR));
      }
      checks.push(check('a', T0, { tenant: 't2' }));
      assert.equal(await project(store, checks), 21);
      // Days 0 and 1 go whole; day 2 loses its 00:00 and 06:00 checks.
      const cutoff = T0 + 2 * DAY + 6 * HOUR + 1;
      assert.equal(await store.transaction((tx) => tx.checks.deleteChecksBefore(cutoff)), 11);
      assert.equal(await store.transaction((tx) => tx.checks.deleteChecksBefore(cutoff)), 0);
      const left = await allChecks(store, 'a', 100);
      assert.deepEqual(
        left.map((c) => c.scheduledAt),
        checks
          .filter((c) => c.tenant === 't1' && c.scheduledAt >= cutoff)
          .map((c) => c.scheduledAt)
          .reverse(),
      );
      const days = await store.monitor.rollups({
        tenant: 't1',
        target: 'a',
        size: 'day',
        from: T0,
        to: T0 + 5 * DAY,
      });
      assert.deepEqual(
        days.map((r) => r.checks),
        [4, 4, 4, 4, 4],
        'rollups outlive the raw checks',
      );
      // A late check for a pruned day is stored again (its day is made again), counted once more.
      assert.equal(await project(store, [check('a', T0 + 3 * HOUR)]), 1);
      assert.deepEqual(
        (await store.monitor.listChecks({ tenant: 't1', target: 'a', limit: 100 })).at(-1)?.scheduledAt,
        T0 + 3 * HOUR,
      );
      assert.equal(await store.transaction((tx) => tx.checks.deleteChecksBefore(T0 + 5 * DAY)), 11);
      assert.deepEqual(await store.monitor.listChecks({ tenant: 't1', target: 'a', limit: 100 }), []);
    });
    it('compaction into hour and day blocks changes no answer: pages, ranges, newest checks, rollups, incidents', async (store) => {
      await store.targets.create(target('a', { downAfter: 2, upAfter: 2 }));
      await store.targets.create(target('b'));
      const checks = history(T0, T0 + 2 * DAY + 3 * HOUR);
      for (let i = 0; i < checks.length; i += 500) await project(store, checks.slice(i, i + 500));
      const end = T0 + 3 * DAY;
      const before = await answers(store, end);
      assert.equal(before.pages[0]!.length, checks.filter((c) => c.target === 'a').length);

      // Day 0 ends before the horizon (a day block); day 1, still open, stays hot.
      const first = await compact(store, T0 + DAY + HOUR);
      assert.ok(first.blocks >= 3, `${first.blocks} blocks`);
      assert.equal(first.checks, checks.filter((c) => c.scheduledAt < T0 + DAY).length);
      assert.deepEqual(await answers(store, end), before, 'after day blocks');
      // Day 1's first hour in hour blocks, as released versions left it.
      assert.ok((await hourBlocks(store, T0 + DAY, T0 + DAY + HOUR)) >= 3);
      assert.deepEqual(await answers(store, end), before, 'after day and hour blocks');
      // A pass while day 1 is open leaves it alone: no hour blocks, nothing merged.
      assert.equal((await compact(store, T0 + 2 * DAY - 1)).blocks, 0);
      // Day 1 merges its hour blocks and its hot rows into one day block; day 2, open, stays hot.
      const second = await compact(store, T0 + 2 * DAY + 2 * HOUR);
      assert.equal(
        second.checks,
        checks.filter((c) => c.scheduledAt >= T0 + DAY + HOUR && c.scheduledAt < T0 + 2 * DAY).length,
      );
      assert.deepEqual(await answers(store, end), before, 'after every day is a block');
      // A pass with nothing to do does nothing.
      assert.deepEqual((await compact(store, T0 + 2 * DAY + 2 * HOUR)).checks, 0);
    });

    it('blocks stored whole in their row, as before version 22, read as they were written and compact again', async (store) => {
      await store.targets.create(target('a', { downAfter: 2, upAfter: 2 }));
      const checks = history(T0, T0 + 2 * DAY + 3 * HOUR).filter((c) => c.target === 'a');
      for (let i = 0; i < checks.length; i += 500) await project(store, checks.slice(i, i + 500));
      const end = T0 + 3 * DAY;
      const before = await answers(store, end);
      await compact(store, T0 + DAY + HOUR);
      await hourBlocks(store, T0 + DAY, T0 + DAY + HOUR);
      await backend.wholeBlocks(store);
      assert.deepEqual(await answers(store, end), before, 'blocks whole in their rows');
      // Day 1's hour block, whole in its row, merges into a day block in the layout of now.
      assert.ok((await compact(store, T0 + 2 * DAY + 2 * HOUR)).checks > 0);
      assert.deepEqual(await answers(store, end), before, 'after compacting over them');
    });

    it('a late check for a compacted slot is not stored twice; a missed one is stored once and merged later', async (store) => {
      await store.targets.create(target('a'));
      const checks = history(T0, T0 + DAY);
      for (let i = 0; i < checks.length; i += 1000) await project(store, checks.slice(i, i + 1000));
      await compact(store, T0 + 2 * DAY);
      const days = () =>
        store.monitor.rollups({ tenant: 't1', target: 'a', size: 'day', from: T0, to: T0 + DAY });
      const before = await days();
      const eu = () => days().then((rs) => rs.find((r) => r.region === 'eu')!.checks);
      const euBefore = await eu();

      // A redundant prober's copy of a compacted check, and the record redelivered: nothing new.
      const stored = checks.find((c) => c.target === 'a' && c.region === 'eu')!;
      assert.equal(await project(store, [{ ...stored, startedAt: stored.startedAt + 3 }, stored]), 0);
      assert.deepEqual(await days(), before);
      // A slot the first prober missed, spooled and drained late: new once, then a duplicate.
      const missed = check('a', T0 + 5 * MINUTE, { durationMs: 77 });
      assert.ok(
        !checks.some((c) => c.target === 'a' && c.region === 'eu' && c.scheduledAt === missed.scheduledAt),
      );
      assert.equal(await project(store, [missed]), 1);
      assert.equal(await project(store, [missed]), 0);
      const withLate = await answers(store, T0 + DAY);
      assert.equal(
        withLate.pages[1]!.filter((c) => c.scheduledAt === missed.scheduledAt && c.region === 'eu').length,
        1,
      );
      assert.equal(await eu(), euBefore + 1);
      // The next pass merges it into its day's block; every answer stays as it was.
      assert.equal((await compact(store, T0 + 2 * DAY)).checks, 1);
      assert.deepEqual(await answers(store, T0 + DAY), withLate);
      assert.equal(await project(store, [missed]), 0);
    });

    it('a late check for an hour already in an hour block of a released version is stored once and merged once, with its day', async (store) => {
      await store.targets.create(target('a'));
      const checks = history(T0, T0 + DAY);
      for (let i = 0; i < checks.length; i += 1000) await project(store, checks.slice(i, i + 1000));
      // Hours 0-2 of the day in hour blocks (as released versions wrote them), the rest hot.
      assert.ok((await hourBlocks(store, T0, T0 + 3 * HOUR)) > 0);
      const before = await answers(store, T0 + DAY);
      const stored = checks.find((c) => c.target === 'a' && c.region === 'eu' && c.scheduledAt >= T0 + HOUR)!;
      assert.equal(await project(store, [{ ...stored, startedAt: stored.startedAt + 3 }, stored]), 0);
      assert.deepEqual(await answers(store, T0 + DAY), before);
      const missed = check('a', T0 + 5 * MINUTE, { durationMs: 77 });
      assert.equal(await project(store, [missed]), 1);
      assert.equal(await project(store, [missed]), 0);
      const withLate = await answers(store, T0 + DAY);
      assert.equal(
        withLate.pages[1]!.filter((c) => c.scheduledAt === missed.scheduledAt && c.region === 'eu').length,
        1,
      );
      // A pass while the day is open leaves it as it is; the first after the day merges all of it.
      assert.equal((await compact(store, T0 + 3 * HOUR)).checks, 0);
      assert.deepEqual(await answers(store, T0 + DAY), withLate);
      assert.equal(await project(store, [missed]), 0);
      const day = await compact(store, T0 + 2 * DAY);
      assert.equal(
        day.checks,
        checks.filter((c) => c.tenant === 't1' && c.scheduledAt >= T0 + 3 * HOUR).length + 1,
      );
      assert.deepEqual(await answers(store, T0 + DAY), withLate);
      assert.equal(await project(store, [missed, stored]), 0);
      assert.equal((await compact(store, T0 + 2 * DAY)).checks, 0);
    });

    it('retention drops whole blocks, keeps a block its cutoff falls in, and deletes hot rows and minute rollups exactly', async (store) => {
      await store.targets.create(target('a'));
      const checks: CheckRow[] = [];
      for (let day = 0; day < 5; day++)
        for (const h of [0, 6, 12, 18]) checks.push(check('a', T0 + day * DAY + h * HOUR));
      assert.equal(await project(store, checks), 20);
      await compact(store, T0 + 3 * DAY); // days 0-2 in blocks, days 3-4 hot
      // Days 0 and 1 are wholly before the cutoff; day 2's block holds it, so it stays whole.
      const cutoff = T0 + 2 * DAY + 6 * HOUR + 1;
      assert.equal(await store.transaction((tx) => tx.checks.deleteChecksBefore(cutoff)), 8);
      assert.equal(
        (await allChecks(store, 'a', 100)).at(-1)!.scheduledAt,
        T0 + 2 * DAY,
        'the block the cutoff falls in is kept whole',
      );
      // Hot rows go one by one.
      assert.equal(await store.transaction((tx) => tx.checks.deleteChecksBefore(T0 + 3 * DAY + 7 * HOUR)), 6);
      assert.deepEqual(
        (await allChecks(store, 'a', 100)).map((c) => c.scheduledAt),
        checks
          .filter((c) => c.scheduledAt >= T0 + 3 * DAY + 7 * HOUR)
          .map((c) => c.scheduledAt)
          .reverse(),
      );
      const minutes = await store.monitor.rollups({
        tenant: 't1',
        target: 'a',
        size: 'minute',
        from: T0,
        to: T0 + 5 * DAY,
      });
      assert.deepEqual(
        minutes.map((r) => r.start),
        checks.filter((c) => c.scheduledAt >= T0 + 3 * DAY + 7 * HOUR).map((c) => c.scheduledAt),
        'minute rollups go with the raw checks',
      );
      const days = await store.monitor.rollups({
        tenant: 't1',
        target: 'a',
        size: 'day',
        from: T0,
        to: T0 + 5 * DAY,
      });
      assert.deepEqual(
        days.map((r) => r.checks),
        [4, 4, 4, 4, 4],
        'day rollups outlive the raw checks',
      );
    });

    it('checks written a slot at a time, late, twice and in bulk are each kept once, across hours, a retention cut and a partial compaction', async (store) => {
      await store.targets.create(target('a'));
      const insert = (batch: readonly CheckRow[]) =>
        store.transaction((tx) => tx.checks.insert(batch)).then((fresh) => fresh.length);
      const kept: CheckRow[] = [];
      const late = new Set([10, 20, 61, 65]);
      // A sink keeping up: a transaction a minute across an hour's end, now and then the previous
      // minute's check again (a redundant prober), and a time with a fraction no decimal holds.
      for (let m = 0; m < 100; m++) {
        if (late.has(m)) continue;
        const c = check('a', T0 + m * MINUTE + (m === 33 ? 1 / 3 : 0), { durationMs: 40 + m });
        const again = m % 7 === 0 && m > 0 && !late.has(m - 1) ? [kept.at(-1)!] : [];
        assert.equal(await insert([...again, c]), 1, `minute ${m}`);
        kept.push(c);
      }
      // Spooled checks drained late, each once; a second copy is not new.
      const drained = [...late].map((m) => check('a', T0 + m * MINUTE, { durationMs: 7 }));
      assert.equal(await insert(drained), 4);
      assert.equal(await insert(drained.slice(1, 3)), 0);
      kept.push(...drained);
      // Another region drained in bulk, with copies inside the batch.
      const us = Array.from({ length: 70 }, (_, m) => check('a', T0 + m * MINUTE + 5, { region: 'us' }));
      assert.equal(await insert([...us, ...us.slice(10, 30)]), 70);
      kept.push(...us);
      const order = (cs: CheckRow[]) =>
        [...cs].sort((x, y) => y.scheduledAt - x.scheduledAt || (x.region < y.region ? 1 : -1));
      const expect = async (what: string) => {
        const all = order(kept);
        for (const limit of [7, 100, 1000])
          assert.deepEqual(await allChecks(store, 'a', limit), all, `${what}: pages of ${limit}`);
        const from = T0 + 30 * MINUTE;
        const to = T0 + 70 * MINUTE + 5;
        assert.deepEqual(
          await allChecks(store, 'a', 9, { from, to }),
          all.filter((c) => c.scheduledAt >= from && c.scheduledAt < to),
          `${what}: a range`,
        );
        const minutes = await store.monitor.rollups({
          tenant: 't1',
          target: 'a',
          size: 'minute',
          from: T0 - HOUR,
          to: T0 + 3 * HOUR,
        });
        assert.equal(
          minutes.reduce((n, r) => n + r.checks, 0),
          kept.length,
          `${what}: minute rollups count each check once`,
        );
        assert.deepEqual(
          await store.monitor.latestChecks('t1'),
          [all.find((c) => c.region === 'eu')!],
          `${what}: the newest check`,
        );
      };
      await expect('hot');
      // Retention cuts inside an hour.
      const cut = T0 + 25 * MINUTE + 2;
      const before = kept.filter((c) => c.scheduledAt < cut).length;
      assert.equal(await store.transaction((tx) => tx.checks.deleteChecksBefore(cut)), before);
      kept.splice(0, kept.length, ...kept.filter((c) => c.scheduledAt >= cut));
      await expect('after retention');
      // Compaction of a range that is not whole hours, then copies of checks on both sides of its ends.
      const [eu] = (await store.transaction((tx) => tx.checks.compactionCandidates(0, 10, DAY))).filter(
        (c) => c.series.region === 'eu',
      );
      const [moved] = await store.transaction((tx) =>
        tx.checks.compact([{ series: eu!.series.id, from: T0 + 33 * MINUTE + 1, to: T0 + 71 * MINUTE }]),
      );
      assert.equal(
        moved?.moved,
        kept.filter(
          (c) =>
            c.region === 'eu' && c.scheduledAt >= T0 + 33 * MINUTE + 1 && c.scheduledAt < T0 + 71 * MINUTE,
        ).length,
      );
      await expect('partly compacted');
      const copies = kept.filter((c) =>
        [33, 34, 70, 71].some((m) => Math.floor((c.scheduledAt - T0) / MINUTE) === m),
      );
      assert.equal(copies.length, 6);
      assert.equal(await insert(copies), 0);
      // A check missed until now inside the compacted range, and the rest of the day compacted.
      const missing = check('a', T0 + 50 * MINUTE + 30_000);
      assert.equal(await insert([missing, missing]), 1);
      kept.push(missing);
      await expect('a late check beside a block');
      await compact(store, T0 + 2 * DAY);
      await expect('compacted');
      assert.equal(await insert(copies), 0);
    });

    it('fields a newer agent adds, and values of any precision, come back as they went in, hot and in blocks', async (store) => {
      const odd = [
        check('a', T0, {
          kind: 'tcp',
          degraded: true,
          assertions: [{ path: '$.ok', passed: false }],
        } as Partial<CheckRow>),
        check('a', T0 + MINUTE, { durationMs: 1 / 3, startedAt: T0 + MINUTE + 0.125, tlsExpiresAt: 1.5 }),
        failed('a', T0 + 2 * MINUTE, {
          error: { class: 'quic-handshake' as never, detail: '' },
          httpVersion: '3',
        }),
        check('a', T0 + 3 * MINUTE, {
          phases: { dnsMs: 0, connectMs: 1e-7, tlsMs: 123456.78, ttfbMs: 0.01, transferMs: 2 ** 40 },
        }),
        // A scheduledAt with a fraction no decimal of 15 digits holds: compaction reads it back exactly.
        check('a', T0 + 4 * MINUTE + 1 / 3),
      ];
      assert.equal((await store.transaction((tx) => tx.checks.insert(odd))).length, 5);
      const hot = await store.monitor.listChecks({ tenant: 't1', target: 'a', limit: 10 });
      assert.deepEqual(hot, [...odd].reverse());
      await compact(store, T0 + 2 * DAY);
      assert.deepEqual(await store.monitor.listChecks({ tenant: 't1', target: 'a', limit: 10 }), hot);
    });
    it('kinds, states and observed come back exactly, hot and in blocks; maintenance counts nowhere, and replay tells no one', async (store) => {
      await store.targets.create(target('a', { downAfter: 1, upAfter: 1 }));
      const meta = { tenant: 't1', source: 'api' as const, createdAt: T0, updatedAt: T0 };
      await store.channels.create({
        ...meta,
        id: 'ops',
        name: 'Ops',
        kind: 'webhook',
        url: 'json://hooks.test/ops',
      });
      await store.alertRules.create({
        ...meta,
        id: 'r',
        targets: ['a'],
        tags: [],
        channels: ['ops'],
        remindEveryMinutes: 0,
        notifyOn: { recovery: true, degraded: true, certificate: false },
        groupWindowSeconds: 0,
      });
      // 00:10 to 00:20 UTC on T0's day: the checks due then are stored as maintenance.
      await store.maintenance.create({
        ...meta,
        id: 'w',
        title: 'Works',
        targets: ['a'],
        tags: [],
        start: '2026-03-10T00:10',
        end: '2026-03-10T00:20',
        timeZone: 'UTC',
      });
      const assertions = {
        assertions: [
          { ok: false, actual: 'false' },
          { ok: true, actual: null },
        ],
      };
      const sent = [
        check('a', T0, { state: 'up', observed: { assertions: [] } }),
        failed('a', T0 + MINUTE, { state: 'down', observed: assertions }),
        check('a', T0 + 2 * MINUTE, { state: 'degraded', durationMs: 2500 }),
        failed('a', T0 + 10 * MINUTE, { state: 'down' }),
        failed('a', T0 + 11 * MINUTE, { state: 'down' }),
        check('a', T0 + 20 * MINUTE, { state: 'up' }),
        // Kinds that speak no HTTP, in another region; a check from before states has none.
        check('a', T0 + 3 * MINUTE, {
          region: 'us',
          kind: 'dns',
          state: 'up',
          status: null,
          httpVersion: null,
          observed: { answers: ['10 mx.example.com', '20 mx2.example.com'] },
        }),
        check('a', T0 + 4 * MINUTE, {
          region: 'us',
          kind: 'icmp',
          state: 'down',
          ok: false,
          observed: { ping: { sent: 3, received: 0, rttMinMs: null, rttMaxMs: null } },
        }),
        check('a', T0 + 5 * MINUTE, { region: 'us' }),
      ];
      // One batch a check, as a sink keeping up would see them: alerting judges each batch's outcome.
      let projected = 0;
      for (const c of [...sent].sort((x, y) => x.scheduledAt - y.scheduledAt))
        projected += await project(store, [c]);
      assert.equal(projected, sent.length);
      const stored = sent.map((c) =>
        c.scheduledAt >= T0 + 10 * MINUTE && c.scheduledAt < T0 + 20 * MINUTE
          ? { ...c, state: 'maintenance' as const }
          : c,
      );
      const newestFirst = [...stored].sort(
        (x, y) => y.scheduledAt - x.scheduledAt || (x.region < y.region ? 1 : -1),
      );
      const all = () => store.monitor.listChecks({ tenant: 't1', target: 'a', limit: 100 });
      assert.deepEqual(await all(), newestFirst);
      const days = () =>
        store.monitor.rollups({ tenant: 't1', target: 'a', size: 'day', from: T0, to: T0 + DAY });
      const counted = (await days()).reduce((n, r) => n + r.checks, 0);
      assert.equal(counted, sent.length - 2, 'checks in maintenance join no rollup');
      const minutes = () =>
        store.monitor.rollups({ tenant: 't1', target: 'a', size: 'minute', from: T0, to: T0 + DAY });
      const minutesHot = await minutes();
      assert.equal(
        minutesHot.reduce((n, r) => n + r.checks, 0),
        sent.length - 2,
        'nor a minute bucket',
      );
      const told = () => store.outbox.history({ tenant: 't1', limit: 100 });
      const before = await told();
      assert.ok(
        ['target.down', 'target.up'].every((e) => before.some((r) => r.notification.event === e)),
        before.map((r) => r.notification.event).join(),
      );

      await compact(store, T0 + 2 * DAY);
      assert.deepEqual(await all(), newestFirst, 'after compaction into a block');
      assert.deepEqual(await minutes(), minutesHot, 'minute buckets of a block leave maintenance out too');
      const rollupsBefore = await days();
      const read = await checkProjection.rebuild!(store);
      assert.equal(read, sent.length);
      assert.deepEqual(await days(), rollupsBefore, 'replay leaves maintenance out too');
      assert.deepEqual(await all(), newestFirst);
      assert.deepEqual(await told(), before, 'a rebuild tells no one again');
    });
    it('replay rebuilds rollups, states and incidents from the stored checks, hot and in blocks, as the sink made them', async (store) => {
      await store.targets.create(target('a', { downAfter: 2, upAfter: 2 }));
      await store.targets.create(target('b'));
      const checks = history(T0, T0 + DAY + 5 * HOUR);
      for (let i = 0; i < checks.length; i += 700) await project(store, checks.slice(i, i + 700));
      await compact(store, T0 + DAY + 2 * HOUR);
      const states = () =>
        store.transaction((tx) =>
          tx.checks.getStates(
            ['eu', 'us'].flatMap((region) => ['a', 'b'].map((t) => ({ tenant: 't1', target: t, region }))),
          ),
        );
      const before = { ...(await answers(store, T0 + 2 * DAY)), states: await states() };
      const progress: number[] = [];
      const read = await checkProjection.rebuild!(store, (p) => progress.push(p.fraction));
      assert.equal(read, checks.length);
      assert.equal(progress.at(-1), 1);
      assert.deepEqual({ ...(await answers(store, T0 + 2 * DAY)), states: await states() }, before);
    });
  });
}
