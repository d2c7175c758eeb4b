// Each monitor kind against something real on loopback: a TCP server and a TLS one, dnsmasq, the
// push URL called on time and late, the system ping (and what happens where ICMP is not allowed).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { ICMP_NOT_PERMITTED } from '../src/monitor/kinds/icmp.ts';
import { startDnsmasq, type DnsServer } from './helpers/dnsmasq.ts';
import { selfSignedCert } from './helpers/farm.ts';
import { eventually, startTestBeacon, type TestBeacon } from './helpers/server.ts';

interface CheckItem {
  kind: string;
  state: string;
  ok: boolean;
  durationMs: number;
  phases: { dnsMs: number; connectMs: number; tlsMs: number };
  tlsExpiresAt: string | null;
  error: { class: string; detail: string } | null;
  observed?: {
    answers?: string[];
    push?: { status: string; message: string } | null;
    ping?: { sent: number; received: number };
  };
}

let beacon: TestBeacon;
let dns: DnsServer;
let tcp: net.Server;
let secure: tls.Server;
let certExpiresAt: number;

const listen = (server: net.Server) =>
  new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));

before(async () => {
  beacon = await startTestBeacon({ 'monitor.refreshMs': 200, 'monitor.perHost': 50 });
  dns = await startDnsmasq([
    '--host-record=app.beacon.test,192.0.2.10,2001:db8::10',
    '--mx-host=beacon.test,mail.beacon.test,10',
    '--txt-record=beacon.test,v=spf1 -all',
    '--srv-host=_sip._tcp.beacon.test,sip.beacon.test,5060,1,2',
    '--cname=www.beacon.test,app.beacon.test',
    // CAA 0 issue "beacon.ca", as raw RDATA: flags, tag length, tag, value.
    '--dns-rr=beacon.test,257,00056973737565626561636f6e2e6361',
    '--address=/gone.beacon.test/',
  ]);
  // Checks hang up as soon as they connect: the servers ignore the resets that follow.
  tcp = net.createServer((socket) => socket.on('error', () => undefined).end('hello\r\n'));
  const { key, cert } = selfSignedCert(10);
  certExpiresAt = Date.parse(new (await import('node:crypto')).X509Certificate(cert).validTo);
  secure = tls.createServer({ key, cert }, (socket) => socket.on('error', () => undefined).end());
  secure.on('tlsClientError', () => undefined);
});
after(async () => {
  await beacon?.destroy();
  await dns?.close();
  tcp?.close();
  secure?.close();
});

async function create(body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await beacon.request('/v1/targets', { method: 'POST', json: { intervalSeconds: 1, ...body } });
  const json = (await res.json()) as Record<string, unknown>;
  assert.equal(res.status, 201, JSON.stringify(json));
  return json;
}

/** The newest check of a target once `ready` accepts it. */
async function newest(id: string, ready: (c: CheckItem) => boolean = () => true): Promise<CheckItem> {
  return eventually(
    async () => {
      const res = await beacon.request(`/v1/targets/${id}/checks?limit=1`);
      const c = ((await res.json()) as { items: CheckItem[] }).items[0];
      return c && ready(c) ? c : undefined;
    },
    20_000,
    `a check of ${id}`,
  );
}

test('tcp: a connect is up with its phases; a closed port is refused; TLS records the certificate expiry', async () => {
  const port = await listen(tcp);
  const tlsPort = await listen(secure);
  await create({ id: 'tcp-up', kind: 'tcp', host: '127.0.0.1', port });
  await create({
    id: 'tls-up',
    kind: 'tcp',
    host: 'localhost',
    port: tlsPort,
    tls: true,
    ignoreTlsErrors: true,
  });
  await create({ id: 'tls-strict', kind: 'tcp', host: 'localhost', port: tlsPort, tls: true });
  const up = await newest('tcp-up');
  assert.deepEqual([up.kind, up.state, up.ok, up.error], ['tcp', 'up', true, null]);
  assert.ok(up.phases.connectMs >= 0 && up.phases.tlsMs === 0);
  const handshake = await newest('tls-up');
  assert.equal(handshake.state, 'up');
  assert.equal(handshake.tlsExpiresAt, new Date(certExpiresAt).toISOString());
  const strict = await newest('tls-strict');
  assert.equal(strict.error?.class, 'tls', 'a self-signed certificate fails a strict TLS check');
  assert.equal(strict.tlsExpiresAt, null);

  const server = net.createServer();
  const gone = await listen(server);
  await new Promise((r) => server.close(r));
  await create({ id: 'tcp-closed', kind: 'tcp', host: '127.0.0.1', port: gone });
  const refused = await newest('tcp-closed');
  assert.deepEqual([refused.state, refused.error?.class], ['down', 'refused']);
});

test('dns: each record type read from a real DNS server, expected values checked, NXDOMAIN down', async () => {
  const cases: [string, string, string[], string][] = [
    ['dns-a', 'A', ['192.0.2.10'], 'app.beacon.test'],
    ['dns-aaaa', 'AAAA', ['2001:db8::10'], 'app.beacon.test'],
    ['dns-mx', 'MX', ['10 mail.beacon.test'], 'beacon.test'],
    ['dns-txt', 'TXT', ['v=spf1 -all'], 'beacon.test'],
    ['dns-srv', 'SRV', ['1 2 5060 sip.beacon.test'], '_sip._tcp.beacon.test'],
    ['dns-cname', 'CNAME', ['app.beacon.test'], 'www.beacon.test'],
    ['dns-caa', 'CAA', ['0 issue beacon.ca'], 'beacon.test'],
  ];
  for (const [id, recordType, expect, query] of cases)
    await create({ id, kind: 'dns', query, recordType, resolver: dns.address, expect, expectExact: true });
  await create({
    id: 'dns-wrong',
    kind: 'dns',
    query: 'app.beacon.test',
    resolver: dns.address,
    expect: ['192.0.2.99'],
  });
  await create({ id: 'dns-gone', kind: 'dns', query: 'gone.beacon.test', resolver: dns.address });
  for (const [id, , expect] of cases) {
    const c = await newest(id);
    assert.equal(c.error, null, `${id}: ${JSON.stringify(c.error)}`);
    assert.deepEqual(c.observed?.answers, expect, id);
    assert.ok(c.phases.dnsMs > 0 && c.phases.dnsMs === c.durationMs);
  }
  const wrong = await newest('dns-wrong');
  assert.deepEqual([wrong.state, wrong.error?.class], ['down', 'answer']);
  assert.match(wrong.error!.detail, /missing 192\.0\.2\.99/);
  const gone = await newest('dns-gone');
  assert.deepEqual([gone.state, gone.error?.class], ['down', 'dns']);
  assert.match(gone.error!.detail, /ENOTFOUND/);
});

test('push: on time is up, with the reported duration; a missed interval is down; a push saying down is down', async () => {
  const target = await create({ id: 'cron', kind: 'push', intervalSeconds: 2, graceSeconds: 1 });
  const token = target.pushToken as string;
  assert.match(token, /^[A-Za-z0-9_-]{24}$/);
  const push = (query: string) => fetch(`${beacon.url}/v1/push/${token}?${query}`);
  assert.equal((await push('status=up&msg=backup%20done&ping=42')).status, 200);
  const onTime = await newest('cron');
  assert.deepEqual([onTime.kind, onTime.state, onTime.durationMs], ['push', 'up', 42]);
  assert.equal(onTime.observed?.push?.message, 'backup done');

  // Nothing more is pushed: once the interval and grace have passed, the slot is missed.
  const late = await newest('cron', (c) => c.state === 'down');
  assert.equal(late.error?.class, 'missed');
  assert.match(late.error.detail, /no push since/);
  // The push comes late: the next slot is up again.
  assert.equal(((await (await push('')).json()) as { ok: boolean }).ok, true);
  await newest('cron', (c) => c.state === 'up');

  assert.equal((await push('status=down&msg=disk%20full')).status, 200);
  const reported = await newest('cron', (c) => c.error?.class === 'reported');
  assert.equal(reported.error!.detail, 'disk full');

  assert.equal((await fetch(`${beacon.url}/v1/push/${'x'.repeat(24)}`)).status, 404, 'an unknown token');
  assert.equal((await push('status=sideways')).status, 400, 'a bad status');
  assert.equal(
    (await fetch(`${beacon.url}/v1/push/${token}?ping=fast`)).status,
    400,
    'ping must be a number',
  );
});

test('icmp: the system ping reaches loopback; without ICMP rights the check names net.ipv4.ping_group_range', async () => {
  await create({ id: 'ping-lo', kind: 'icmp', host: '127.0.0.1', packets: 2 });
  const up = await newest('ping-lo');
  assert.equal(up.error, null, JSON.stringify(up.error));
  assert.deepEqual(
    [up.kind, up.state, up.observed?.ping?.sent, up.observed?.ping?.received],
    ['icmp', 'up', 2, 2],
  );

  // A ping binary without cap_net_raw, run as nobody, on a host whose ping_group_range leaves nobody out.
  const dir = mkdtempSync(join(tmpdir(), 'beacon-ping-'));
  try {
    const ping = join(dir, 'ping');
    copyFileSync('/usr/bin/ping', ping);
    chmodSync(ping, 0o755);
    chmodSync(dir, 0o755);
    const script = join(dir, 'probe.ts');
    writeFileSync(
      script,
      `import { probeIcmp } from ${JSON.stringify(fileURLToPath(new URL('../src/monitor/kinds/icmp.ts', import.meta.url)))};\n` +
        `process.stdout.write(JSON.stringify(await probeIcmp({ host: '127.0.0.1', packets: 1, timeoutMs: 2000 }, ${JSON.stringify(ping)})));\n`,
    );
    chmodSync(script, 0o644);
    const range = readFileSync('/proc/sys/net/ipv4/ping_group_range', 'utf8').trim().split(/\s+/).map(Number);
    assert.ok(
      range[0]! > 65534 || range[1]! < 65534,
      `this host lets nobody ping (${range.join(' ')}): the test needs it not to`,
    );
    const run = spawnSync(process.execPath, [script], { uid: 65534, gid: 65534, encoding: 'utf8' });
    const result = JSON.parse(run.stdout) as CheckItem;
    assert.deepEqual([result.state, result.error?.class], ['down', 'permission']);
    assert.equal(result.error?.detail, ICMP_NOT_PERMITTED);
    assert.match(ICMP_NOT_PERMITTED, /net\.ipv4\.ping_group_range/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('each kind is validated with its own fields, in the API as in the file', async () => {
  const bad = async (body: Record<string, unknown>, message: RegExp) => {
    const res = await beacon.request('/v1/targets', { method: 'POST', json: body });
    const json = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(res.status, 400);
    assert.equal(json.error.code, 'TARGET_INVALID');
    assert.match(json.error.message, message);
  };
  await bad({ kind: 'tcp', host: '127.0.0.1' }, /port/);
  await bad({ kind: 'tcp', host: 'not a host', port: 80 }, /host is not a host name/);
  await bad({ kind: 'tcp', host: 'x', port: 80, url: 'http://x/' }, /url is not a known field/);
  await bad({ kind: 'dns', query: 'a.test', recordType: 'PTR' }, /recordType/);
  await bad({ kind: 'dns', query: 'a.test', resolver: 'dns.google' }, /resolver must be an IP address/);
  await bad({ kind: 'icmp', host: 'h', packets: 50 }, /packets/);
  await bad({ kind: 'smtp', host: 'h' }, /kind must be one of http, tcp, dns, push, icmp/);
  await bad(
    { url: 'http://x/', assertions: [{ type: 'json', path: 'status', op: 'equals', value: 1 }] },
    /path must start with \$/,
  );
  await bad(
    { url: 'http://x/', assertions: [{ type: 'json', path: '$.a', op: 'equals' }] },
    /op equals needs a value/,
  );
  await bad(
    { url: 'http://x/', assertions: [{ type: 'body', op: 'exists' }] },
    /must be json, header or responseTime/,
  );
  await bad({ kind: 'push', intervalSeconds: '60' }, /intervalSeconds/);
});
