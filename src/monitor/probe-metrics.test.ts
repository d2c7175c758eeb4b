import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sampleTarget } from '../../test/helpers/targets.ts';
import type { CheckRow } from './model.ts';
import { exposition, labelValue, probeSample, PROBE_METRIC_NAMES } from './probe-metrics.ts';

const check = (patch: Partial<CheckRow> = {}): CheckRow => ({
  tenant: 't1',
  kind: 'http',
  target: 'web',
  region: 'default',
  slot: 1,
  scheduledAt: 1_700_000_000_000,
  ok: true,
  startedAt: 1_700_000_000_010,
  durationMs: 120,
  phases: { dnsMs: 1, connectMs: 2, tlsMs: 3, ttfbMs: 100, transferMs: 14 },
  status: 200,
  httpVersion: '2.0',
  bytes: 10,
  tlsExpiresAt: null,
  patternMatched: null,
  redirects: 0,
  error: null,
  ...patch,
});

const collect = async (gen: AsyncGenerator<string>) => {
  let text = '';
  for await (const chunk of gen) text += chunk;
  return text;
};

test('label values escape backslash, quote and newline', () => {
  assert.equal(labelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  const sample = probeSample(sampleTarget('web', { url: 'https://x.example/?q="1"' }), check())!;
  assert.equal(sample.labels, 'target="web",instance="https://x.example/?q=\\"1\\"",kind="http"');
  assert.equal(sample.httpVersion, 2);
});

test('paused and unchecked targets have no sample', () => {
  assert.equal(probeSample(sampleTarget('web', { paused: true }), check()), undefined);
  assert.equal(probeSample(sampleTarget('web'), undefined), undefined);
});

test('each family comes whole, in order, across chunks of many targets', async () => {
  const samples = Array.from({ length: 2500 }, (_, i) => probeSample(sampleTarget(`t${i}`), check())!);
  const text = await collect(exposition(samples));
  const names = text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.slice(0, l.indexOf('{')));
  // Runs of one name, in the declared order: no family is split.
  const runs = names.filter((n, i) => n !== names[i - 1]);
  assert.deepEqual(
    runs,
    PROBE_METRIC_NAMES.filter((n) => n !== 'probe_ssl_earliest_cert_expiry'),
  );
  assert.equal(names.filter((n) => n === 'probe_http_duration_seconds').length, 2500 * 5);
  assert.ok(
    text.includes(
      'probe_http_duration_seconds{target="t7",instance="https://t7.example/",kind="http",phase="processing"} 0.1\n',
    ),
  );
});
