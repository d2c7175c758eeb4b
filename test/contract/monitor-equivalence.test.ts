import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LogRecord } from '../../src/log/record.ts';
import { checkKey, ERROR_CLASSES, type CheckRow } from '../../src/monitor/model.ts';
import type { CheckQuery } from '../../src/monitor/store/repositories.ts';
import { checkProjection } from '../../src/monitor/projection.ts';
import { ROLLUP_SIZES } from '../../src/monitor/rollup.ts';
import type { Target } from '../../src/monitor/target.ts';
import type { BeaconStore } from '../../src/roles/store.ts';
import { withStorePair } from '../helpers/postgres.ts';
import { quietContext } from '../helpers/projection.ts';
import { random } from '../helpers/random.ts';
import { gather } from '../helpers/targets.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;
const BASE = Date.UTC(2026, 0, 30, 22, 0, 0);
const TENANTS = ['acme', 'Acme', 'z'];
const TARGETS = ['a', 'B', 'c-1', 'c.1'];
const REGIONS = ['eu', 'EU', 'us-east'];
const texts = ['', 'plain', 'tab\there', 'line\nbreak', '"quoted", comma', 'ünïcødé ✓', 'back\\slash'];

/**
 * 4,000 checks over 3 tenants, 4 targets and 3 regions across three days: redundant agents (same
 * identity, other measurements), redeliveries, late checks, fractional times and odd error text;
 * delivered in random batches through the real check projection.
 */
function workload(): LogRecord[][] {
  const next = random(7);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
  const records: LogRecord[] = [];
  for (let i = 0; i < 4000; i++) {
    if (next() < 0.08 && records.length > 0) {
      records.push(records[Math.floor(next() * records.length)]!); // redelivery
      continue;
    }
    const tenant = pick(TENANTS);
    const slot = Math.floor(next() * 3 * 24 * 60);
    const scheduledAt = BASE + slot * MINUTE;
    const ok = next() < 0.7;
    const body: Omit<CheckRow, 'tenant'> = {
      target: pick(TARGETS),
      region: pick(REGIONS),
      slot,
      scheduledAt,
      startedAt: scheduledAt + Math.floor(next() * 900) + (next() < 0.1 ? 0.5 : 0),
      durationMs: Math.round(next() * 40_000) / 100,
      phases: {
        dnsMs: Math.round(next() * 1000) / 100,
        connectMs: Math.round(next() * 1000) / 100,
        tlsMs: next() < 0.5 ? 0 : Math.round(next() * 5000) / 100,
        ttfbMs: Math.round(next() * 20_000) / 100,
        transferMs: Math.round(next() * 3000) / 100,
      },
      status: next() < 0.1 ? null : pick([200, 204, 301, 404, 500, 503]),
      httpVersion: next() < 0.1 ? null : pick(['1.1', '2']),
      bytes: Math.floor(next() * 2_000_000),
      tlsExpiresAt: next() < 0.5 ? null : BASE + Math.floor(next() * 400) * DAY,
      patternMatched: next() < 0.3 ? null : next() < 0.5,
      redirects: Math.floor(next() * 3),
      ok,
      error: ok ? null : { class: pick(ERROR_CLASSES), detail: pick(texts) },
    };
    records.push({
      stream: 'checks',
      tenant,
      key: checkKey(body),
      entity: body.target,
      id: `0190-${i}`,
      ts: scheduledAt,
      receivedAt: body.startedAt,
      body,
      partition: 0,
      offset: i,
    });
  }
  const batches: LogRecord[][] = [];
  for (let i = 0; i < records.length;) {
    const size = 1 + Math.floor(next() * 300);
    batches.push(records.slice(i, i + size));
    i += size;
  }
  return batches;
}

/** Every page of a query, following the cursor as the API does. */
async function pages(store: BeaconStore, query: Omit<CheckQuery, 'before'>): Promise<CheckRow[][]> {
  const all: CheckRow[][] = [];
  let before: CheckQuery['before'];
  for (;;) {
    const page = await store.monitor.listChecks({ ...query, before });
    all.push(page);
    if (page.length < query.limit) return all;
    const last = page.at(-1)!;
    before = { scheduledAt: last.scheduledAt, region: last.region };
  }
}

/** Everything the monitor's readers answer about the workload's tenants and targets. */
async function answers(store: BeaconStore): Promise<unknown[]> {
  const out: unknown[] = [
    await gather(store.monitor.targetPages(7)),
    await store.monitor.incidentChanges(0, 10_000),
    await store.monitor.incidentChanges(7, 3),
    await store.monitor.lastIncidentSeq(),
  ];
  for (const tenant of [...TENANTS, 'nobody']) {
    out.push(await store.monitor.listTargets(tenant, 3), await store.monitor.latestChecks(tenant));
    for (const target of TARGETS) {
      out.push(
        await pages(store, { tenant, target, limit: 97 }),
        await pages(store, { tenant, target, limit: 40, from: BASE + DAY, to: BASE + DAY + 6 * 3_600_000 }),
        await store.monitor.listIncidents(tenant, target, 1000),
        await store.monitor.listIncidents(tenant, target, 5, BASE + DAY),
      );
      for (const size of ROLLUP_SIZES) {
        out.push(await store.monitor.rollups({ tenant, target, size, from: BASE - DAY, to: BASE + 4 * DAY }));
      }
    }
  }
  return out;
}

test('SQLite and PostgreSQL give identical monitor answers to the same checks, targets and retention', async () => {
  await withStorePair(async ({ sqlite, postgres }) => {
    const both = [sqlite, postgres];
    // Targets with low thresholds, so incidents open and close; one target per tenant is missing
    // (its checks are stored and rolled up, but move no incident).
    for (const tenant of TENANTS) {
      for (const [i, id] of TARGETS.slice(1).entries()) {
        const target: Target = {
          kind: 'http',
          id,
          tenant,
          source: i === 0 ? 'file' : 'api',
          url: `https://${tenant}.test/${id}`,
          intervalSeconds: 60,
          timeoutMs: 10_000,
          method: 'GET',
          headers: {},
          expectStatus: ['200-399'],
          patternMustMatch: true,
          maxRedirects: 0,
          maxBodyBytes: 1_048_576,
          ignoreTlsErrors: false,
          downAfter: 1 + i,
          upAfter: 2,
          tags: [],
          assertions: [],
          tlsExpiryDays: [21, 14, 7],
          createdAt: BASE,
          updatedAt: BASE,
        };
        for (const s of both) assert.equal(await s.targets.create(target), true);
      }
    }
    for (const batch of workload()) {
      const [a, b] = await Promise.all(
        both.map((s) => s.transaction((tx) => checkProjection.apply(tx, batch, quietContext(s)))),
      );
      assert.equal(b, a, 'same count of new checks for every batch');
    }
    assert.deepEqual(await answers(postgres), await answers(sqlite));
    // The workload is rich enough to mean something: incidents both closed and still open.
    const incidents = (
      await Promise.all(TENANTS.flatMap((t) => TARGETS.map((g) => sqlite.monitor.listIncidents(t, g, 1000))))
    ).flat();
    assert.ok(incidents.filter((i) => i.endedAt !== null).length >= 5, `${incidents.length} incidents`);
    assert.ok(incidents.some((i) => i.endedAt === null));

    // Retention, a day and a bit: the same number of checks go, and the same answers remain.
    const cutoff = BASE + DAY + 5 * 3_600_000 + 17;
    const [a, b] = await Promise.all(
      both.map((s) => s.transaction((tx) => tx.checks.deleteChecksBefore(cutoff))),
    );
    assert.ok(a! > 1000, `${a} checks pruned`);
    assert.equal(b, a);
    assert.deepEqual(await answers(postgres), await answers(sqlite));
  });
});
