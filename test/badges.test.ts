// Badges as a README sees them: real targets checked by the prober against the local farm, and one
// target whose checks are written to the log by hand (half up, half down, a certificate 10 days from
// expiry), each badge parsed as XML by Python's parser (xml.etree, Debian's python3).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { v7 as uuidv7 } from 'uuid';
import { BADGE_COLORS } from '../src/monitor/badge.ts';
import { checkKey, type Check } from '../src/monitor/model.ts';
import { startFarm, type TargetFarm } from './helpers/farm.ts';
import { eventually, startTestBeacon, type TestBeacon } from './helpers/server.ts';

const run = promisify(execFile);
const DAY = 86_400_000;

let farm: TargetFarm;
let beacon: TestBeacon;
let token: string;
let betaAdmin: string;
let betaBadge: string;

/** Reads each SVG with Python's XML parser: its visible texts, its value side's colour and its width. */
async function parsed(svgs: readonly string[]): Promise<{ texts: string[]; color: string; width: string }[]> {
  const script = `
import json, sys, xml.etree.ElementTree as ET
NS = '{http://www.w3.org/2000/svg}'
out = []
for svg in json.load(sys.stdin):
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter(NS + 'text') if t.get('aria-hidden') is None]
    rects = [r for r in root.iter(NS + 'rect') if r.get('fill', '').startswith('#')]
    out.append({'texts': texts, 'color': rects[2].get('fill'), 'width': root.get('width')})
print(json.dumps(out))
`;
  const child = run('/usr/bin/python3', ['-c', script]);
  child.child.stdin!.end(JSON.stringify(svgs));
  return JSON.parse((await child).stdout) as { texts: string[]; color: string; width: string }[];
}

const badge = (target: string, kind: string, query = `token=${token}`) =>
  fetch(`${beacon.url}/badge/${target}/${kind}.svg?${query}`);

/** A check of `half` written to the log as the prober would, `minutesAgo` before now. */
function handMade(minutesAgo: number, ok: boolean, durationMs: number): Check {
  const scheduledAt = Math.floor((Date.now() - minutesAgo * 60_000) / 60_000) * 60_000;
  return {
    kind: 'http',
    target: 'half',
    region: 'default',
    slot: scheduledAt / 60_000,
    scheduledAt,
    ok,
    state: ok ? 'up' : 'down',
    startedAt: scheduledAt + 5,
    durationMs,
    phases: { dnsMs: 1, connectMs: 2, tlsMs: 3, ttfbMs: durationMs - 10, transferMs: 4 },
    status: ok ? 200 : 503,
    httpVersion: '1.1',
    bytes: 10,
    tlsExpiresAt: Date.now() + 10 * DAY + 3_600_000,
    patternMatched: null,
    redirects: 0,
    error: ok ? null : { class: 'status', detail: 'status 503' },
  };
}

before(async () => {
  farm = await startFarm({ tls: false });
  beacon = await startTestBeacon({ 'monitor.refreshMs': 200, 'monitor.perHost': 50 });
  for (const [id, path] of [
    ['shop', '/ok'],
    ['api', '/status/503'],
  ]) {
    const res = await beacon.request('/v1/targets', {
      method: 'POST',
      json: { id, url: `${farm.http}${path}`, intervalSeconds: 1 },
    });
    assert.equal(res.status, 201);
  }
  // Paused, so the prober leaves it to the checks written below.
  await beacon.request('/v1/targets', {
    method: 'POST',
    json: { id: 'half', url: `${farm.http}/ok`, intervalSeconds: 60, paused: true },
  });
  const checks = [handMade(30, true, 100), handMade(20, false, 300)];
  await beacon.log.append(
    checks.map((body) => ({
      stream: 'checks',
      tenant: 'default',
      key: checkKey(body),
      entity: body.target,
      id: uuidv7(),
      ts: body.scheduledAt,
      receivedAt: Date.now(),
      body,
    })),
  );
  const created = await beacon.request('/v1/badge-token', { method: 'POST' });
  assert.equal(created.status, 201);
  token = ((await created.json()) as { token: string }).token;

  const beta = await beacon.request('/v1/tenants', { method: 'POST', json: { id: 'beta', name: 'Beta' } });
  betaAdmin = ((await beta.json()) as { adminToken: string }).adminToken;
  await beacon.request('/v1/targets', {
    method: 'POST',
    token: betaAdmin,
    json: { id: 'beta-only', url: `${farm.http}/ok`, intervalSeconds: 60, paused: true },
  });
  betaBadge = (
    (await (await beacon.request('/v1/badge-token', { method: 'POST', token: betaAdmin })).json()) as {
      token: string;
    }
  ).token;

  await eventually(
    async () => {
      const summary = (await (await beacon.request('/v1/targets/half/summary')).json()) as {
        total: { checks: number };
      };
      const list = (await (await beacon.request('/v1/targets?limit=10')).json()) as {
        items: { id: string; state: string }[];
      };
      const states = Object.fromEntries(list.items.map((t) => [t.id, t.state]));
      return summary.total.checks === 2 && states.shop === 'up' && states.api === 'down' ? true : undefined;
    },
    20_000,
    'checks of every target',
  );
});
after(async () => {
  await beacon?.destroy();
  await farm?.close();
});

test('every kind of badge is well-formed SVG with the figure and colour the API gives', async () => {
  const kinds = ['status', 'uptime-24h', 'uptime-7d', 'uptime-30d', 'uptime-90d', 'response', 'cert'];
  const answers = await Promise.all(kinds.map((k) => badge('half', k)));
  for (const answer of answers) {
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('content-type'), 'image/svg+xml; charset=utf-8');
    assert.equal(answer.headers.get('cache-control'), 'public, max-age=60');
    assert.match(answer.headers.get('etag') ?? '', /^"[\w-]+"$/);
  }
  const svgs = await Promise.all(answers.map((a) => a.text()));
  const faces = Object.fromEntries((await parsed(svgs)).map((f, i) => [kinds[i]!, f]));
  const summary = (await (await beacon.request('/v1/targets/half/summary')).json()) as {
    total: { uptime: number; latencyMs: { avg: number } };
  };
  assert.equal(summary.total.uptime, 50);
  assert.deepEqual(faces.status!.texts, ['status', 'paused']);
  assert.equal(faces.status!.color, BADGE_COLORS.none);
  for (const [kind, label] of [
    ['uptime-24h', 'uptime 24h'],
    ['uptime-7d', 'uptime 7d'],
    ['uptime-30d', 'uptime 30d'],
    ['uptime-90d', 'uptime 90d'],
  ] as const) {
    assert.deepEqual(faces[kind]!.texts, [label, '50.00%'], kind);
    // Uptime Kuma's hue for 50 %: hsl(50, 90%, 40%).
    assert.equal(faces[kind]!.color, '#c2a30a', kind);
  }
  assert.deepEqual(faces.response!.texts, ['response 24h', `${summary.total.latencyMs.avg}ms`]);
  assert.equal(summary.total.latencyMs.avg, 200);
  assert.equal(faces.response!.color, BADGE_COLORS.blue);
  assert.deepEqual(faces.cert!.texts, ['cert expiry', '10 days']);
  assert.equal(faces.cert!.color, BADGE_COLORS.warn);

  const last = await (await badge('half', 'response', `token=${token}&period=last`)).text();
  assert.deepEqual((await parsed([last]))[0]!.texts, ['response', '300ms']);
});

test('real targets: up and down as the target list shows them, 100.00 % and 0.00 % uptime', async () => {
  const svgs = await Promise.all(
    [
      ['shop', 'status'],
      ['api', 'status'],
      ['shop', 'uptime-24h'],
      ['api', 'uptime-24h'],
      ['shop', 'cert'],
    ].map(async ([t, k]) => (await badge(t!, k!)).text()),
  );
  const [shop, api, shopUptime, apiUptime, shopCert] = await parsed(svgs);
  assert.deepEqual(shop!.texts, ['status', 'up']);
  assert.equal(shop!.color, BADGE_COLORS.up);
  assert.deepEqual(api!.texts, ['status', 'down']);
  assert.equal(api!.color, BADGE_COLORS.down);
  assert.deepEqual(shopUptime!.texts, ['uptime 24h', '100.00%']);
  assert.equal(shopUptime!.color, BADGE_COLORS.up);
  assert.deepEqual(apiUptime!.texts, ['uptime 24h', '0.00%']);
  assert.equal(apiUptime!.color, BADGE_COLORS.down);
  // Plain http: no certificate recorded.
  assert.deepEqual(shopCert!.texts, ['cert expiry', 'no data']);
});

test('a label override replaces the left side, escaped, and widens the badge to fit', async () => {
  const plain = (await parsed([await (await badge('half', 'uptime-24h')).text()]))[0]!;
  const res = await badge(
    'half',
    'uptime-24h',
    `token=${token}&label=${encodeURIComponent('<Our API> & co')}`,
  );
  assert.equal(res.status, 200);
  const svg = await res.text();
  assert.ok(svg.includes('&lt;Our API&gt; &amp; co'));
  const face = (await parsed([svg]))[0]!;
  assert.deepEqual(face.texts, ['<Our API> & co', '50.00%']);
  assert.ok(Number(face.width) > Number(plain.width));
});

test('an unchanged badge answers 304 to its ETag', async () => {
  const first = await badge('half', 'uptime-30d');
  const etag = first.headers.get('etag')!;
  const again = await fetch(`${beacon.url}/badge/half/uptime-30d.svg?token=${token}`, {
    headers: { 'if-none-match': etag },
  });
  assert.equal(again.status, 304);
  assert.equal(await again.text(), '');
});

test('a bad token, another tenant’s target and an unknown target are the same 404, as JSON', async () => {
  const cases = [
    badge('half', 'status', 'token=bcnb_not-a-token'),
    badge('half', 'status', ''),
    badge('half', 'status', 'page=our-status'),
    badge('beta-only', 'status'),
    badge('half', 'status', `token=${betaBadge}`),
    badge('nowhere', 'status'),
  ];
  const bodies = new Set<string>();
  for (const res of await Promise.all(cases)) {
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    bodies.add(await res.text());
  }
  assert.equal(bodies.size, 1, 'every refusal reads alike');
  assert.equal(
    (await (await badge('beta-only', 'status', `token=${betaBadge}`)).text()).includes('<svg'),
    true,
    'beta’s token opens beta’s target',
  );
  const [error] = [...bodies].map((b) => JSON.parse(b) as { error: { code: string } });
  assert.equal(error!.error.code, 'BADGE_NOT_FOUND');

  // A disabled tenant's badges go dark too, and come back when it is enabled.
  assert.equal((await beacon.request('/v1/tenants/beta/disable', { method: 'POST' })).status, 200);
  assert.equal((await badge('beta-only', 'status', `token=${betaBadge}`)).status, 404);
  assert.equal((await beacon.request('/v1/tenants/beta/enable', { method: 'POST' })).status, 200);
  assert.equal((await badge('beta-only', 'status', `token=${betaBadge}`)).status, 200);
});

test('wrong types and values are 400, never coerced', async () => {
  for (const query of [
    `token=${token}&label=${'x'.repeat(41)}`,
    `token=${token}&label=`,
    `token=${token}&label=a%0Ab`,
    `token=${token}&period=1h`,
    `token=${token}&page=Not_A_Slug`,
    `token=${token}&label=a&label=b`,
  ]) {
    const res = await badge('half', 'response', query);
    assert.equal(res.status, 400, query);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'VALIDATION_FAILED');
  }
  assert.equal((await badge('half', 'uptime-1y')).status, 400);
  assert.equal((await badge('bad id!', 'status')).status, 400);
});

test('rotating the token retires the old one; revoking it retires the badge', async () => {
  const before = (await (await beacon.request('/v1/badge-token')).json()) as { createdAt: string };
  assert.match(before.createdAt, /^\d{4}-/);
  const rotated = await beacon.request('/v1/badge-token', { method: 'POST' });
  const fresh = ((await rotated.json()) as { token: string }).token;
  assert.equal((await badge('half', 'status')).status, 404, 'the old token');
  assert.equal((await badge('half', 'status', `token=${fresh}`)).status, 200);
  // A badge token is no API token: it cannot revoke itself.
  const read = await beacon.request('/v1/badge-token', { method: 'DELETE', token: betaBadge });
  assert.equal(read.status, 401);
  assert.equal((await beacon.request('/v1/badge-token', { method: 'DELETE' })).status, 204);
  assert.equal((await badge('half', 'status', `token=${fresh}`)).status, 404, 'the revoked token');
  assert.equal((await beacon.request('/v1/badge-token')).status, 404);
  assert.equal((await beacon.request('/v1/badge-token', { method: 'DELETE' })).status, 404);
  token = ((await (await beacon.request('/v1/badge-token', { method: 'POST' })).json()) as { token: string })
    .token;
});

test('a public status page that shows a target opens its badges without a token, and closes them when it stops', async () => {
  const page = (groups: unknown) => ({ slug: 'our-status', title: 'Our status', groups });
  const created = await beacon.request('/v1/status-pages', {
    method: 'POST',
    json: { id: 'ours', ...page([{ name: 'Site', targets: ['half'] }]) },
  });
  assert.equal(created.status, 201);
  try {
    const open = await badge('half', 'status', 'page=our-status');
    assert.equal(open.status, 200);
    assert.match(await open.text(), /<svg/);
    // Another target of the same tenant is not on the page; beta's page cannot open ours either.
    assert.equal((await badge('beta-only', 'status', 'page=our-status')).status, 404);
    // Replaced by a tag group whose tag the target does not carry: no longer shown, so closed.
    const byTag = await beacon.request('/v1/status-pages/ours', {
      method: 'PUT',
      json: page([{ name: 'None', tag: 'no-such-tag' }]),
    });
    assert.equal(byTag.status, 200);
    assert.equal((await badge('half', 'status', 'page=our-status')).status, 404, 'off the page: closed');
  } finally {
    await beacon.request('/v1/status-pages/ours', { method: 'DELETE' });
  }
  assert.equal((await badge('half', 'status', 'page=our-status')).status, 404, 'page deleted: closed');
});

test('badges are rate-limited per client address, before any token is looked up: 429 with Retry-After', async () => {
  const limited = await startTestBeacon({ 'monitor.enabled': false, 'monitor.badges.rateLimitPerMinute': 3 });
  try {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      // Guesses: no such token and no such target. Each is 404 until the address runs out.
      last = await fetch(`${limited.url}/badge/guess-${i}/status.svg?token=bcnb_guess`);
      statuses.push(last.status);
      if (last.status === 429) break;
    }
    assert.deepEqual(statuses, [404, 404, 404, 429]);
    assert.ok(Number(last!.headers.get('retry-after')) >= 1);
    assert.equal(((await last!.json()) as { error: { code: string } }).error.code, 'BADGE_RATE_LIMITED');
  } finally {
    await limited.destroy();
  }
});
