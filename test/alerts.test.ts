// Alerting end to end in one `beacon start`: channels, rules, the outbox and its worker, grouping,
// maintenance windows, degraded checks and certificate warnings, against a real webhook receiver.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startFarm, type TargetFarm } from './helpers/farm.ts';
import { startReceiver, type Receiver } from './helpers/receiver.ts';
import { eventually, startTestBeacon, type TestBeacon } from './helpers/server.ts';

interface Item {
  event: string;
  subject: string;
  title: string;
  severity: string;
}
interface Body {
  count: number;
  items: Item[];
}

let farm: TargetFarm;
let beacon: TestBeacon;
let hook: Receiver;
let failFirst = true;

before(async () => {
  farm = await startFarm();
  // The first request fails, so delivery must retry; the rest are accepted with 204.
  hook = await startReceiver(() => {
    if (failFirst) {
      failFirst = false;
      return { status: 503, body: 'warming up' };
    }
    return { status: 204 };
  });
  beacon = await startTestBeacon({
    'monitor.refreshMs': 200,
    'monitor.perHost': 50,
    'notify.pollMs': 100,
    'notify.backoffMs': 50,
  });
});
after(async () => {
  await beacon?.destroy();
  await farm?.close();
  await hook?.close();
});

const json = async <T>(res: Response): Promise<T> => (await res.json()) as T;
/** Notifications a receiver accepted (answered 2xx) at `path`. */
const items = (r: Receiver, path: string) =>
  r.received.filter((x) => x.path === path && x.status < 300).flatMap((x) => (x.json as Body).items);

async function create(path: string, body: unknown): Promise<void> {
  const res = await beacon.request(path, { method: 'POST', json: body });
  assert.equal(res.status, 201, `${path}: ${await res.text()}`);
}

test('a target that goes down is told once per channel, with retry, then its recovery; the history shows both', async () => {
  await create('/v1/channels', { id: 'hook', name: 'Hook', url: `json://127.0.0.1:${hook.port}/hook` });
  await create('/v1/alert-rules', {
    id: 'flaky-rule',
    targets: ['flaky'],
    channels: ['hook'],
    groupWindowSeconds: 0,
  });
  await create('/v1/targets', {
    id: 'flaky',
    name: 'Flaky',
    url: `http://127.0.0.1:${farm.closedPort}/`,
    intervalSeconds: 1,
    downAfter: 2,
    upAfter: 1,
  });
  const down = await eventually(
    () =>
      Promise.resolve(items(hook, '/hook').find((i) => i.event === 'target.down' && i.subject === 'flaky')),
    20_000,
    'the down notification',
  );
  assert.equal(down.title, 'Flaky is down');
  assert.equal(down.severity, 'critical');
  assert.ok(hook.received.length >= 2, 'the 503 was retried');

  await beacon.request('/v1/targets/flaky', { method: 'PATCH', json: { url: `${farm.http}/ok` } });
  await eventually(
    () => Promise.resolve(items(hook, '/hook').find((i) => i.event === 'target.up' && i.subject === 'flaky')),
    20_000,
    'the recovery',
  );
  const told = items(hook, '/hook').filter((i) => i.subject === 'flaky');
  assert.deepEqual(
    told.map((i) => i.event),
    ['target.down', 'target.up'],
    'each change once, however many checks',
  );

  const history = await json<{
    items: { event: string; state: string; status: number; channel: string; attempts: number }[];
  }>(await beacon.request('/v1/targets/flaky/deliveries'));
  assert.deepEqual(
    history.items.map((d) => [d.event, d.state, d.status, d.channel]),
    [
      ['target.up', 'sent', 204, 'hook'],
      ['target.down', 'sent', 204, 'hook'],
    ],
  );
  assert.equal(history.items[1]!.attempts, 2, 'the first attempt got the 503');
  const body = hook.received.find((r) => (r.json as Body).items?.[0]?.event === 'target.down')!.json as {
    link: string | null;
    text: string;
  };
  assert.equal(body.link, null, 'no link without publicUrl');
  assert.match(body.text, /failed 2 checks in a row \(local\): refused/);
  const channel = await json<Record<string, unknown>>(await beacon.request('/v1/channels/hook'));
  assert.equal(channel.url, undefined, 'a GET never returns the URL');
  assert.equal(channel.summary, 'POST http://127.0.0.1:' + hook.port + '/…');
});

test('a maintenance window marks checks maintenance: no incident, no notification, no uptime counted', async () => {
  const now = Date.now();
  await create('/v1/maintenance-windows', {
    id: 'works',
    title: 'Works',
    tags: ['paused'],
    start: new Date(now - 60_000).toISOString(),
    end: new Date(now + 3_600_000).toISOString(),
  });
  await create('/v1/alert-rules', {
    id: 'paused-rule',
    tags: ['paused'],
    channels: ['hook'],
    groupWindowSeconds: 0,
  });
  await create('/v1/targets', {
    id: 'quiet',
    url: `http://127.0.0.1:${farm.closedPort}/`,
    intervalSeconds: 1,
    downAfter: 1,
    tags: ['paused'],
  });
  const checks = await eventually(async () => {
    const page = await json<{ items: { state: string; ok: boolean }[] }>(
      await beacon.request('/v1/targets/quiet/checks'),
    );
    return page.items.length >= 4 ? page.items : undefined;
  });
  assert.ok(
    checks.every((c) => c.state === 'maintenance' && !c.ok),
    'failed, but in maintenance',
  );
  const incidents = await json<{ items: unknown[] }>(await beacon.request('/v1/targets/quiet/incidents'));
  assert.equal(incidents.items.length, 0);
  const target = await json<{ state: string; uptime: { h24: number | null } }>(
    await beacon.request('/v1/targets/quiet'),
  );
  assert.equal(target.state, 'maintenance');
  assert.equal(target.uptime.h24, null, 'maintenance checks do not count');
  assert.equal(items(hook, '/hook').filter((i) => i.subject === 'quiet').length, 0);
  const windows = await json<{ items: { id: string; active: boolean }[] }>(
    await beacon.request('/v1/targets/quiet/maintenance-windows'),
  );
  assert.deepEqual(
    windows.items.map((w) => [w.id, w.active]),
    [['works', true]],
  );
});

test('many targets failing within the grouping window go out as one message listing them', async () => {
  await create('/v1/channels', { id: 'digest', name: 'Digest', url: `json://127.0.0.1:${hook.port}/digest` });
  await create('/v1/alert-rules', {
    id: 'fleet',
    tags: ['fleet'],
    channels: ['digest'],
    groupWindowSeconds: 3,
  });
  for (let i = 0; i < 6; i++) {
    await create('/v1/targets', {
      id: `fleet-${i}`,
      url: `http://127.0.0.1:${farm.closedPort}/${i}`,
      intervalSeconds: 1,
      downAfter: 1,
      tags: ['fleet'],
    });
  }
  const told = await eventually(
    () => Promise.resolve(items(hook, '/digest').length >= 6 ? items(hook, '/digest') : undefined),
    20_000,
    'six down notifications',
  );
  assert.deepEqual(new Set(told.map((i) => i.subject)).size, 6);
  const messages = hook.received.filter((r) => r.path === '/digest' && r.status < 300);
  assert.ok(messages.length < 6, `${messages.length} messages for 6 notifications`);
  assert.ok(
    messages.some((m) => (m.json as Body).count > 1),
    'one message carried several',
  );
});

test('a slow answer is degraded (up, and told on its own), a JSON assertion that fails is down', async () => {
  await create('/v1/alert-rules', {
    id: 'perf',
    targets: ['slowpoke'],
    channels: ['hook'],
    groupWindowSeconds: 0,
    notifyOn: { degraded: true },
  });
  await create('/v1/targets', {
    id: 'slowpoke',
    url: `${farm.http}/slow/150`,
    intervalSeconds: 1,
    downAfter: 2,
    degradedAboveMs: 50,
  });
  await create('/v1/targets', {
    id: 'api-json',
    url: `${farm.http}/json/ok`,
    intervalSeconds: 1,
    assertions: [
      { type: 'json', path: '$.status', op: 'equals', value: 'ok' },
      { type: 'json', path: '$.items[-1]', op: 'greaterOrEqual', value: 3 },
      { type: 'header', name: 'content-type', op: 'contains', value: 'json' },
      { type: 'responseTime', op: 'lessThan', value: 5000 },
      { type: 'json', path: '$.build.version', op: 'equals', value: '2.0.0' },
    ],
  });
  const degraded = await eventually(
    () =>
      Promise.resolve(
        items(hook, '/hook').find((i) => i.event === 'target.degraded' && i.subject === 'slowpoke'),
      ),
    20_000,
    'the degraded notification',
  );
  assert.equal(degraded.severity, 'warning');
  const slow = await json<{ state: string; lastCheck: { ok: boolean } }>(
    await beacon.request('/v1/targets/slowpoke'),
  );
  assert.equal(slow.state, 'degraded');
  assert.equal(slow.lastCheck.ok, true);
  const check = await eventually(async () => {
    const page = await json<{
      items: {
        ok: boolean;
        error: { class: string; detail: string } | null;
        observed?: { assertions: { ok: boolean; actual: string }[] };
      }[];
    }>(await beacon.request('/v1/targets/api-json/checks?limit=1'));
    return page.items[0];
  });
  assert.equal(check.ok, false);
  assert.equal(check.error?.class, 'assertion');
  assert.match(check.error.detail, /\$\.build\.version equals "2\.0\.0" failed \(was 1\.2\.3\)/);
  assert.deepEqual(
    check.observed?.assertions.map((a) => a.ok),
    [true, true, true, true, false],
  );
});

test('a certificate nearing expiry is warned of once per threshold, not on every check', async () => {
  await create('/v1/channels', { id: 'certs', name: 'Certs', url: `json://127.0.0.1:${hook.port}/certs` });
  await create('/v1/alert-rules', {
    id: 'tls',
    targets: ['secure'],
    channels: ['certs'],
    groupWindowSeconds: 0,
  });
  // The farm's certificate is valid for 30 days: thresholds of 45 and 40 days are both crossed.
  await create('/v1/targets', {
    id: 'secure',
    url: `${farm.https}/ok`,
    ignoreTlsErrors: true,
    intervalSeconds: 1,
    tlsExpiryDays: [45, 40, 7],
  });
  const warned = await eventually(
    () => Promise.resolve(items(hook, '/certs').find((i) => i.event === 'certificate.expiring')),
    20_000,
    'the certificate warning',
  );
  assert.match(warned.title, /expires in (29|30) days/);
  // Several more checks see the same certificate.
  await eventually(async () => {
    const page = await json<{ items: unknown[] }>(await beacon.request('/v1/targets/secure/checks'));
    return page.items.length >= 5 ? true : undefined;
  });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(items(hook, '/certs').filter((i) => i.event === 'certificate.expiring').length, 1);
});
