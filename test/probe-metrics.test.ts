// /v1/probe-metrics scraped from a running Beacon whose prober checks real targets on the local farm
// (http up and down, https with its certificate, tcp), and read by a real Prometheus text-format
// parser: Debian's python3-prometheus-client (scripts/install-deps). Names, labels and values must
// match each target's latest check as the API gives it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startFarm, type TargetFarm } from './helpers/farm.ts';
import { eventually, startTestBeacon, type TestBeacon } from './helpers/server.ts';

const run = promisify(execFile);

let farm: TargetFarm;
let beacon: TestBeacon;

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}
interface Parsed {
  readonly families: { name: string; type: string; documentation: string }[];
  readonly samples: Sample[];
}

/** The exposition as prometheus_client's parser reads it (it throws on anything malformed). */
async function parse(text: string): Promise<Parsed> {
  const script = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
families, samples = [], []
for f in text_string_to_metric_families(sys.stdin.read()):
    families.append({'name': f.name, 'type': f.type, 'documentation': f.documentation})
    for s in f.samples:
        samples.append({'name': s.name, 'labels': s.labels, 'value': s.value})
print(json.dumps({'families': families, 'samples': samples}))
`;
  const child = run('/usr/bin/python3', ['-c', script], { maxBuffer: 64 * 1024 * 1024 });
  child.child.stdin!.end(text);
  return JSON.parse((await child).stdout) as Parsed;
}

interface ApiCheck {
  ok: boolean;
  scheduledAt: string;
  durationMs: number;
  phases: { dnsMs: number; connectMs: number; tlsMs: number; ttfbMs: number; transferMs: number };
  status: number | null;
  httpVersion: string | null;
  tlsExpiresAt: string | null;
}
interface ApiTarget {
  id: string;
  kind: string;
  state: string;
  lastCheck: ApiCheck | null;
}

const targets = async (): Promise<ApiTarget[]> =>
  ((await (await beacon.request('/v1/targets?limit=100')).json()) as { items: ApiTarget[] }).items;

before(async () => {
  farm = await startFarm();
  beacon = await startTestBeacon({ 'monitor.refreshMs': 200, 'monitor.perHost': 50 });
  const port = Number(new URL(farm.http).port);
  const specs = [
    { id: 'shop', url: `${farm.http}/ok`, tags: ['web'] },
    { id: 'api', url: `${farm.http}/status/503` },
    { id: 'secure', url: `${farm.https}/ok`, ignoreTlsErrors: true, tags: ['web'] },
    { id: 'socket', kind: 'tcp', host: '127.0.0.1', port },
    { id: 'resting', url: `${farm.http}/ok`, paused: true },
  ];
  for (const spec of specs) {
    const res = await beacon.request('/v1/targets', {
      method: 'POST',
      json: { intervalSeconds: 1, ...spec },
    });
    assert.equal(res.status, 201, await res.text());
  }
  await eventually(
    async () => ((await targets()).filter((t) => t.lastCheck !== null).length === 4 ? true : undefined),
    20_000,
    'a check of every unpaused target',
  );
});
after(async () => {
  await beacon?.destroy();
  await farm?.close();
});

/** A scrape and the targets as the API gave them on both sides of it (so no check landed between). */
async function steadyScrape(query = ''): Promise<{ text: string; response: Response; api: ApiTarget[] }> {
  return eventually(
    async () => {
      const before = JSON.stringify(await targets());
      const response = await beacon.request(`/v1/probe-metrics${query}`);
      const text = await response.text();
      const after = await targets();
      return JSON.stringify(after) === before ? { text, response, api: after } : undefined;
    },
    20_000,
    'a scrape between checks',
    50,
  );
}

test('the exposition parses, with blackbox’s names, and every value is the latest check’s', async () => {
  const { text, response, api } = await steadyScrape();
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const parsed = await parse(text);
  assert.deepEqual(
    parsed.families.map((f) => [f.name, f.type]),
    [
      ['probe_success', 'gauge'],
      ['probe_duration_seconds', 'gauge'],
      ['probe_dns_lookup_time_seconds', 'gauge'],
      ['probe_http_duration_seconds', 'gauge'],
      ['probe_http_status_code', 'gauge'],
      ['probe_http_version', 'gauge'],
      ['probe_ssl_earliest_cert_expiry', 'gauge'],
      ['beacon_probe_checked_timestamp_seconds', 'gauge'],
    ],
  );
  assert.ok(
    parsed.families.every((f) => f.documentation.length > 0),
    'every family has # HELP',
  );

  const value = (name: string, target: string, phase?: string) => {
    const found = parsed.samples.filter(
      (s) => s.name === name && s.labels.target === target && s.labels.phase === phase,
    );
    assert.ok(found.length <= 1, `${name} ${target} once`);
    return found[0]?.value;
  };
  const byId = new Map(api.map((t) => [t.id, t]));
  const instances = {
    shop: `${farm.http}/ok`,
    api: `${farm.http}/status/503`,
    secure: `${farm.https}/ok`,
    socket: `127.0.0.1:${new URL(farm.http).port}`,
  };
  for (const [id, instance] of Object.entries(instances)) {
    const target = byId.get(id)!;
    const check = target.lastCheck!;
    for (const s of parsed.samples.filter((x) => x.labels.target === id)) {
      assert.deepEqual(
        Object.keys(s.labels).filter((k) => k !== 'phase'),
        ['target', 'instance', 'kind'],
      );
      assert.equal(s.labels.instance, instance);
      assert.equal(s.labels.kind, target.kind);
    }
    assert.equal(value('probe_success', id), check.ok ? 1 : 0, id);
    assert.equal(value('probe_duration_seconds', id), check.durationMs / 1000, id);
    assert.equal(value('probe_dns_lookup_time_seconds', id), check.phases.dnsMs / 1000, id);
    assert.equal(
      value('beacon_probe_checked_timestamp_seconds', id),
      Math.floor(Date.parse(check.scheduledAt) / 1000),
    );
    if (target.kind === 'http') {
      assert.equal(value('probe_http_status_code', id), check.status ?? 0, id);
      assert.equal(value('probe_http_version', id), Number.parseFloat(check.httpVersion!), id);
      const phases = {
        resolve: 'dnsMs',
        connect: 'connectMs',
        tls: 'tlsMs',
        processing: 'ttfbMs',
        transfer: 'transferMs',
      } as const;
      for (const [phase, field] of Object.entries(phases)) {
        assert.equal(
          value('probe_http_duration_seconds', id, phase),
          check.phases[field] / 1000,
          `${id} ${phase}`,
        );
      }
    } else {
      assert.equal(value('probe_http_status_code', id), undefined);
      assert.equal(value('probe_http_duration_seconds', id, 'connect'), undefined);
    }
  }
  assert.equal(value('probe_success', 'shop'), 1);
  assert.equal(value('probe_success', 'api'), 0);
  assert.equal(value('probe_http_status_code', 'api'), 503);
  assert.equal(value('probe_success', 'socket'), 1);
  assert.equal(value('probe_ssl_earliest_cert_expiry', 'secure'), Math.floor(farm.certExpiresAt / 1000));
  assert.equal(
    value('probe_ssl_earliest_cert_expiry', 'secure'),
    Math.floor(Date.parse(byId.get('secure')!.lastCheck!.tlsExpiresAt!) / 1000),
  );
  assert.equal(value('probe_ssl_earliest_cert_expiry', 'shop'), undefined);
  // Paused: its last check is old news.
  assert.equal(parsed.samples.filter((s) => s.labels.target === 'resting').length, 0);
});

test('?tag= and ?target= narrow the scrape; an unknown target is 404 and wrong types 400', async () => {
  const tagged = await parse(await (await beacon.request('/v1/probe-metrics?tag=web')).text());
  assert.deepEqual([...new Set(tagged.samples.map((s) => s.labels.target))].sort(), ['secure', 'shop']);
  const one = await parse(await (await beacon.request('/v1/probe-metrics?target=api')).text());
  assert.deepEqual([...new Set(one.samples.map((s) => s.labels.target))], ['api']);
  const none = await parse(await (await beacon.request('/v1/probe-metrics?target=api&tag=web')).text());
  assert.equal(none.samples.length, 0);
  assert.equal((await beacon.request('/v1/probe-metrics?target=nowhere')).status, 404);
  assert.equal((await beacon.request('/v1/probe-metrics?target=bad%20id')).status, 400);
  assert.equal((await beacon.request('/v1/probe-metrics?tag=')).status, 400);
  assert.equal((await beacon.request('/v1/probe-metrics?tag=a&tag=b')).status, 400);
});

test('bearer only: no token is 401, and another tenant sees none of these targets', async () => {
  assert.equal((await beacon.request('/v1/probe-metrics', { token: null })).status, 401);
  const badge = (
    (await (await beacon.request('/v1/badge-token', { method: 'POST' })).json()) as { token: string }
  ).token;
  assert.equal((await fetch(`${beacon.url}/v1/probe-metrics?token=${badge}`)).status, 401);
  const beta = await beacon.request('/v1/tenants', { method: 'POST', json: { id: 'beta', name: 'Beta' } });
  const betaAdmin = ((await beta.json()) as { adminToken: string }).adminToken;
  const seen = await parse(await (await beacon.request('/v1/probe-metrics', { token: betaAdmin })).text());
  assert.equal(seen.samples.length, 0);
  assert.equal((await beacon.request('/v1/probe-metrics?target=shop', { token: betaAdmin })).status, 404);
});
