import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { loadConfig } from '../src/config/load.ts';
import { startMonitor } from '../src/monitor/monitor.ts';
import { slotOffset, slotStart } from '../src/monitor/schedule.ts';
import { Metrics } from '../src/observability/metrics.ts';
import { createToken } from '../src/tenants/tokens.ts';
import { startFarm, type TargetFarm } from './helpers/farm.ts';
import { eventually, startTestBeacon, type TestBeacon } from './helpers/server.ts';

interface CheckView {
  target: string;
  region: string;
  slot: number;
  scheduledAt: string;
  startedAt: string;
  ok: boolean;
  status: number | null;
  error: { class: string } | null;
  phases: Record<string, number>;
}

const FAST = { 'monitor.refreshMs': 200, 'monitor.perHost': 50 };

/** Waits until `condition` holds (polling), or fails after 10 s. */
const until = (condition: () => boolean) =>
  eventually(() => Promise.resolve(condition() ? true : undefined), 10_000);

async function json<T>(res: Response | Promise<Response>): Promise<T> {
  const r = await res;
  return (await r.json()) as T;
}

async function checksOf(beacon: TestBeacon, id: string, query = ''): Promise<CheckView[]> {
  return (await json<{ items: CheckView[] }>(beacon.request(`/v1/targets/${id}/checks?limit=1000${query}`)))
    .items;
}

describe('uptime monitor end to end', () => {
  let farm: TargetFarm;
  let beacon: TestBeacon;
  before(async () => {
    farm = await startFarm();
    beacon = await startTestBeacon(FAST);
  });
  after(async () => {
    await beacon.destroy();
    await farm.close();
  });

  test('a target created through the API is checked once per aligned slot and listed newest first', async () => {
    const res = await beacon.request('/v1/targets', {
      method: 'POST',
      json: { id: 'home', url: `${farm.http}/ok`, intervalSeconds: 1, timeoutMs: 800, tags: ['web'] },
    });
    assert.equal(res.status, 201);
    const created = await json<{ id: string; source: string; state: string; expectStatus: string[] }>(res);
    assert.deepEqual([created.id, created.source, created.state], ['home', 'api', 'unknown']);
    assert.deepEqual(created.expectStatus, ['200-399'], 'defaults filled in');

    const checks = await eventually(async () => {
      const items = await checksOf(beacon, 'home');
      return items.length >= 3 ? items : undefined;
    });
    const offset = slotOffset('default/home', 1000);
    const slots = checks.map((c) => c.slot);
    assert.deepEqual(
      slots,
      [...slots].sort((a, b) => b - a),
      'newest first',
    );
    assert.equal(new Set(slots).size, slots.length, 'one row per slot');
    for (const c of checks) {
      assert.equal(
        Date.parse(c.scheduledAt),
        slotStart(c.slot, 1000, offset),
        'slot-aligned with the stable offset',
      );
      assert.ok(Date.parse(c.startedAt) >= Date.parse(c.scheduledAt));
      assert.equal(c.ok, true);
      assert.equal(c.status, 200);
      assert.equal(c.region, 'local');
      assert.ok(c.phases.connectMs! >= 0 && c.phases.ttfbMs! > 0);
    }

    const page1 = await json<{ items: CheckView[]; next: string }>(
      beacon.request('/v1/targets/home/checks?limit=2'),
    );
    assert.equal(page1.items.length, 2);
    const page2 = await json<{ items: CheckView[] }>(
      beacon.request(`/v1/targets/home/checks?limit=2&after=${page1.next}`),
    );
    assert.ok(page2.items[0]!.slot < page1.items[1]!.slot, 'the cursor continues where the page ended');

    const list = await json<{ items: { id: string; state: string; uptime: { h24: number } }[] }>(
      beacon.request('/v1/targets'),
    );
    const home = list.items.find((t) => t.id === 'home')!;
    assert.equal(home.state, 'up');
    assert.equal(home.uptime.h24, 100);

    const summary = await json<{ total: { checks: number; uptime: number; latencyMs: { p50: number } } }>(
      beacon.request('/v1/targets/home/summary?bucket=minute'),
    );
    assert.ok(summary.total.checks >= 3);
    assert.equal(summary.total.uptime, 100);
    assert.ok(summary.total.latencyMs.p50 > 0);
  });

  test('failures are stored with their class and counted in the summary', async () => {
    await beacon.request('/v1/targets', {
      method: 'POST',
      json: { id: 'broken', url: `${farm.http}/status/500`, intervalSeconds: 1, timeoutMs: 800 },
    });
    const checks = await eventually(async () => {
      const items = await checksOf(beacon, 'broken');
      return items.length >= 2 ? items : undefined;
    });
    assert.equal(checks[0]!.error?.class, 'status');
    const summary = await json<{ total: { uptime: number; errors: Record<string, number> } }>(
      beacon.request('/v1/targets/broken/summary?bucket=hour'),
    );
    assert.equal(summary.total.uptime, 0);
    assert.ok(summary.total.errors.status! >= 2);
    const target = await json<{ state: string }>(beacon.request('/v1/targets/broken'));
    assert.equal(target.state, 'down');
    const incidents = await eventually(async () => {
      const page = await json<{ items: { endedAt: string | null; cause: string; startedAt: string }[] }>(
        beacon.request('/v1/targets/broken/incidents'),
      );
      return page.items.length > 0 ? page.items : undefined;
    });
    assert.equal(incidents.length, 1, 'one incident after downAfter (3) failures');
    assert.equal(incidents[0]!.cause, 'status');
    assert.equal(incidents[0]!.endedAt, null);
    const first = (await checksOf(beacon, 'broken')).at(-1)!;
    assert.equal(incidents[0]!.startedAt, first.scheduledAt, 'dated from the first failed check');
  });

  test('checks are pushed live on /v1/stream', async () => {
    const ws = new WebSocket(beacon.url.replace('http', 'ws') + '/v1/stream?streams=checks&entity=home', {
      headers: { authorization: `Bearer ${'test-admin-token-0123456789abcdef'}` },
    });
    const frame = await new Promise<{ type: string; stream: string; entity: string; body: CheckView }>(
      (resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no check frame')), 5000);
        ws.on('message', (data: Buffer) => {
          const f = JSON.parse(data.toString()) as {
            type: string;
            stream: string;
            entity: string;
            body: CheckView;
          };
          if (f.type === 'record') {
            clearTimeout(timer);
            resolve(f);
          }
        });
      },
    );
    ws.close();
    assert.equal(frame.stream, 'checks');
    assert.equal(frame.entity, 'home');
    assert.equal(frame.body.target, 'home');
  });

  test('bad targets are refused with TARGET_INVALID naming the field', async () => {
    const cases: [unknown, RegExp][] = [
      [{ url: 'ftp://x' }, /url must be http/],
      [{ url: `${farm.http}/ok`, intervalSeconds: 0 }, /intervalSeconds/],
      [{ url: `${farm.http}/ok`, intervalSeconds: 90000 }, /intervalSeconds/],
      [{ url: `${farm.http}/ok`, pattern: '(unclosed' }, /pattern is not a valid RE2 pattern/],
      [{ url: `${farm.http}/ok`, pattern: '(a)\\1' }, /pattern/],
      [{ url: `${farm.http}/ok`, expectStatus: ['299-200'] }, /expectStatus.0 range ends/],
      [
        { url: `${farm.http}/ok`, intervalSeconds: 1, timeoutMs: 5000 },
        /timeoutMs must not exceed the interval/,
      ],
      [{ url: `${farm.http}/ok`, bogus: 1 }, /bogus is not a known field/],
      [{ id: 'bad id!', url: `${farm.http}/ok` }, /id must be/],
    ];
    for (const [body, message] of cases) {
      const res = await beacon.request('/v1/targets', { method: 'POST', json: body });
      const answer = await json<{ error: { code: string; message: string } }>(res);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(answer.error.code, 'TARGET_INVALID');
      assert.match(answer.error.message, message);
    }
    const dup = await beacon.request('/v1/targets', {
      method: 'POST',
      json: { id: 'home', url: `${farm.http}/ok` },
    });
    assert.equal(dup.status, 409);
  });

  test('PATCH changes a target, DELETE stops it, and other tenants never see it', async () => {
    const patched = await beacon.request('/v1/targets/broken', {
      method: 'PATCH',
      json: { expectStatus: ['500'] },
    });
    assert.equal(patched.status, 200);
    assert.deepEqual((await json<{ expectStatus: string[] }>(patched)).expectStatus, ['500']);
    await eventually(
      async () => {
        const page = await json<{ items: { endedAt: string | null }[] }>(
          beacon.request('/v1/targets/broken/incidents'),
        );
        return page.items[0]?.endedAt ? true : undefined;
      },
      10_000,
      'the incident to close once 500 counts as up',
    );
    const bad = await beacon.request('/v1/targets/broken', {
      method: 'PATCH',
      json: { intervalSeconds: -1 },
    });
    assert.equal(bad.status, 400);

    await beacon.store.tenants.ensure({ id: 'acme', name: 'Acme', createdAt: Date.now() });
    const { secret } = await createToken(beacon.store.tenants, {
      tenant: 'acme',
      name: 't',
      scopes: ['read', 'admin'],
    });
    const other = await beacon.request('/v1/targets/home', { token: secret });
    assert.equal(other.status, 404);
    const otherList = await json<{ items: unknown[] }>(beacon.request('/v1/targets', { token: secret }));
    assert.equal(otherList.items.length, 0);
    assert.equal((await beacon.request('/v1/targets/home', { method: 'DELETE', token: secret })).status, 404);

    assert.equal((await beacon.request('/v1/targets/broken', { method: 'DELETE' })).status, 204);
    assert.equal((await beacon.request('/v1/targets/broken')).status, 404);
    const hits = () => farm.hits.get('/status/500') ?? 0;
    await beacon.monitor!.prober.refresh();
    const settled = hits();
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(hits() - settled <= 1, 'a deleted target is no longer checked (one may have been in flight)');
  });

  test('two redundant agents store each check once; another region keeps its own rows', async () => {
    await beacon.request('/v1/targets', {
      method: 'POST',
      json: { id: 'shared', url: `${farm.http}/text/shared`, intervalSeconds: 1, timeoutMs: 800 },
    });
    const config = (region: string) =>
      loadConfig({
        flags: { dataDir: beacon.dataDir, 'monitor.region': region, ...FAST, logLevel: 'silent' },
      });
    const twin = await startMonitor({
      config: config('local'),
      store: beacon.store,
      log: beacon.log,
      metrics: new Metrics(),
      logger: beacon.logger,
      retention: false,
    });
    const far = await startMonitor({
      config: config('eu'),
      store: beacon.store,
      log: beacon.log,
      metrics: new Metrics(),
      logger: beacon.logger,
      retention: false,
    });
    try {
      const rows = await eventually(async () => {
        const items = await checksOf(beacon, 'shared');
        const local = items.filter((c) => c.region === 'local');
        return local.length >= 4 && items.some((c) => c.region === 'eu') ? items : undefined;
      });
      const local = rows.filter((c) => c.region === 'local');
      assert.equal(new Set(local.map((c) => c.slot)).size, local.length, 'one local row per slot');
      const eu = rows.filter((c) => c.region === 'eu');
      assert.equal(new Set(eu.map((c) => c.slot)).size, eu.length, 'one eu row per slot');
    } finally {
      await twin.close();
      await far.close();
    }
    // Both local agents really probed: the farm saw about twice as many local requests as rows.
    const local = (await checksOf(beacon, 'shared')).filter((c) => c.region === 'local').length;
    const requests = farm.hits.get('/text/shared') ?? 0;
    assert.ok(requests > local + 2, `requests ${requests}, local rows ${local}`);
  });
});

describe('targets file', () => {
  let farm: TargetFarm;
  let beacon: TestBeacon;
  let file: string;
  before(async () => {
    farm = await startFarm({ tls: false });
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    file = join(mkdtempSync(join(tmpdir(), 'beacon-targets-')), 'targets.yaml');
    writeFileSync(
      file,
      `targets:\n  - id: a\n    url: ${farm.http}/text/a\n    intervalSeconds: 1\n    timeoutMs: 500\n`,
    );
    beacon = await startTestBeacon({ ...FAST, 'monitor.targetsFile': file });
  });
  after(async () => {
    await beacon.destroy();
    await farm.close();
  });

  test('targets from the file are checked, read-only in the API, and reloaded on change', async () => {
    const a = await json<{ source: string }>(beacon.request('/v1/targets/a'));
    assert.equal(a.source, 'file');
    assert.equal((await beacon.request('/v1/targets/a', { method: 'DELETE' })).status, 409);
    await eventually(async () => ((await checksOf(beacon, 'a')).length > 0 ? true : undefined));

    const loads = beacon.monitor!.targetFile!.loads;
    writeFileSync(
      file,
      `targets:\n  - id: b\n    url: ${farm.http}/text/b\n    intervalSeconds: 1\n    timeoutMs: 500\n    tags: [x]\n`,
    );
    await until(() => beacon.monitor!.targetFile!.loads > loads);
    assert.equal((await beacon.request('/v1/targets/a')).status, 404, 'a is gone');
    assert.equal((await beacon.request('/v1/targets/b')).status, 200);
  });

  test('a bad file is rejected naming the line, and the old set keeps running', async () => {
    const loads = beacon.monitor!.targetFile!.loads;
    writeFileSync(
      file,
      `targets:\n  - id: b\n    url: ${farm.http}/text/b\n    intervalSeconds: 1\n  - id: c\n    url: ${farm.http}/text/c\n    intervalSeconds: 100000\n`,
    );
    await until(() => beacon.monitor!.targetFile!.loads > loads);
    const err = beacon.monitor!.targetFile!.lastError!;
    assert.equal(err.code, 'TARGETS_FILE_INVALID');
    assert.match(err.message, /targets\.yaml:7: targets\[1\]\.intervalSeconds/);
    assert.equal((await beacon.request('/v1/targets/c')).status, 404);
    const before = farm.hits.get('/text/b') ?? 0;
    await until(() => (farm.hits.get('/text/b') ?? 0) > before);

    const loads2 = beacon.monitor!.targetFile!.loads;
    writeFileSync(file, 'targets:\n  - id: b\n    url: [unclosed\n');
    await until(() => beacon.monitor!.targetFile!.loads > loads2);
    assert.match(beacon.monitor!.targetFile!.lastError!.message, /targets\.yaml:\d+:/);
    assert.equal((await beacon.request('/v1/targets/b')).status, 200, 'still there');
  });
});
