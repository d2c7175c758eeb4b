import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startFarm, type TargetFarm } from '../../test/helpers/farm.ts';
import { planFor, probe } from './probe.ts';
import { compilePattern, parseTargetSpec, type HttpSpec } from './target.ts';

let farm: TargetFarm;
before(async () => (farm = await startFarm()));
after(() => farm.close());

function spec(input: Record<string, unknown>): HttpSpec {
  const parsed = parseTargetSpec({ intervalSeconds: 60, timeoutMs: 2000, ...input });
  if ('problems' in parsed) throw new Error(JSON.stringify(parsed.problems));
  return parsed.spec as HttpSpec;
}
const run = (input: Record<string, unknown>) => probe(planFor(spec(input), compilePattern));

test('a healthy target: status, version, bytes and every phase measured on a fresh connection', async () => {
  const before = farm.connections();
  const a = await run({ url: `${farm.http}/ok` });
  const b = await run({ url: `${farm.http}/ok` });
  assert.equal(a.ok, true);
  assert.equal(a.status, 200);
  assert.equal(a.httpVersion, '1.1');
  assert.equal(a.bytes, 'beacon farm ok'.length);
  assert.equal(a.error, null);
  assert.ok(a.phases.connectMs > 0 && a.phases.ttfbMs > 0, JSON.stringify(a.phases));
  assert.equal(a.phases.tlsMs, 0);
  assert.ok(b.ok);
  assert.equal(farm.connections() - before, 2, 'one new connection per check');
});

test('https: TLS phase and certificate expiry are recorded', async () => {
  const r = await run({ url: `${farm.https}/ok`, ignoreTlsErrors: true });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  assert.ok(r.phases.tlsMs > 0);
  assert.ok(r.phases.dnsMs >= 0);
  assert.equal(r.tlsExpiresAt, farm.certExpiresAt);
});

test('a self-signed certificate fails with class tls unless errors are ignored', async () => {
  const r = await run({ url: `${farm.https}/ok` });
  assert.equal(r.ok, false);
  assert.equal(r.error?.class, 'tls', JSON.stringify(r.error));
});

test('error classes: refused, reset, timeout, status, body-too-large, dns', async () => {
  const refused = await run({ url: `http://127.0.0.1:${farm.closedPort}/` });
  assert.equal(refused.error?.class, 'refused');
  const reset = await run({ url: `${farm.http}/reset` });
  assert.equal(reset.error?.class, 'reset', JSON.stringify(reset.error));
  const hang = await run({ url: `${farm.http}/hang`, timeoutMs: 300 });
  assert.equal(hang.error?.class, 'timeout');
  assert.ok(hang.durationMs >= 300);
  const slow = await run({ url: `${farm.http}/slow/1000`, timeoutMs: 200 });
  assert.equal(slow.error?.class, 'timeout');
  const status = await run({ url: `${farm.http}/status/503` });
  assert.equal(status.error?.class, 'status');
  assert.equal(status.status, 503);
  const expected = await run({ url: `${farm.http}/status/503`, expectStatus: ['500-599'] });
  assert.equal(expected.ok, true);
  const huge = await run({ url: `${farm.http}/huge/5000000`, maxBodyBytes: 100000 });
  assert.equal(huge.error?.class, 'body-too-large');
  const dns = await run({ url: 'http://no-such-host.invalid/' });
  assert.equal(dns.error?.class, 'dns', JSON.stringify(dns.error));
});

test('pattern must match, must not match, and a pathological pattern finishes fast', async () => {
  const found = await run({ url: `${farm.http}/text/all+systems+go`, pattern: 'systems\\s+go' });
  assert.equal(found.patternMatched, true);
  assert.equal(found.ok, true);
  const missing = await run({ url: `${farm.http}/text/all+down`, pattern: 'systems' });
  assert.equal(missing.error?.class, 'pattern');
  const forbidden = await run({
    url: `${farm.http}/text/fatal+error`,
    pattern: 'error',
    patternMustMatch: false,
  });
  assert.equal(forbidden.error?.class, 'pattern');
  assert.equal(forbidden.patternMatched, true);
  // (a+)+$ against "aaaa…a!" takes exponential time in a backtracking engine; RE2 is linear.
  const evil = await run({ url: `${farm.http}/backtrack`, pattern: '^(a+)+$', timeoutMs: 5000 });
  assert.equal(evil.patternMatched, false);
  assert.equal(evil.error?.class, 'pattern');
});

test('redirects: followed within the limit on fresh connections, else classed redirect', async () => {
  const followed = await run({ url: `${farm.http}/redirect/3`, maxRedirects: 5 });
  assert.equal(followed.ok, true);
  assert.equal(followed.redirects, 3);
  assert.equal(followed.status, 200);
  const tooMany = await run({ url: `${farm.http}/redirect/3`, maxRedirects: 2 });
  assert.equal(tooMany.error?.class, 'redirect');
  const judged = await run({ url: `${farm.http}/redirect/1` });
  assert.equal(judged.status, 302);
  assert.equal(judged.ok, true, '3xx is up under the default 200-399');
});
