import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AlertRule } from './alert-rules.ts';
import {
  alertStateId,
  certificateCandidates,
  evaluateAlerts,
  span,
  warningsToTell,
  type AlertInput,
} from './alerts.ts';
import type { AlertState, CheckRow, TargetFacts, TargetState } from './model.ts';

const MIN = 60_000;
const facts: TargetFacts = {
  kind: 'http',
  name: 'Web',
  address: 'https://web.test/',
  tags: ['prod'],
  downAfter: 3,
  upAfter: 2,
  tlsExpiryDays: [21, 14, 7],
  degradedAboveMs: 500,
};
const rule = (patch: Partial<AlertRule> = {}): AlertRule => ({
  tenant: 't',
  id: 'r',
  source: 'api',
  createdAt: 0,
  updatedAt: 0,
  targets: [],
  tags: [],
  channels: ['ops', 'pager'],
  remindEveryMinutes: 0,
  notifyOn: { recovery: true, degraded: false, certificate: true },
  groupWindowSeconds: 10,
  ...patch,
});
const region = (name: string, patch: Partial<TargetState> = {}): TargetState => ({
  tenant: 't',
  target: 'web',
  region: name,
  down: false,
  streak: 0,
  fails: 0,
  slow: 0,
  streakStart: 0,
  lastScheduledAt: 0,
  incidentStart: null,
  ...patch,
});
const check = (at: number, patch: Partial<CheckRow> = {}): CheckRow => ({
  tenant: 't',
  target: 'web',
  region: 'eu',
  slot: 0,
  scheduledAt: at,
  ok: false,
  startedAt: at,
  durationMs: 12,
  phases: { dnsMs: 0, connectMs: 0, tlsMs: 0, ttfbMs: 0, transferMs: 0 },
  status: null,
  httpVersion: null,
  bytes: 0,
  tlsExpiresAt: null,
  patternMatched: null,
  redirects: 0,
  error: { class: 'refused', detail: 'ECONNREFUSED' },
  ...patch,
});
const input = (patch: Partial<AlertInput>): AlertInput => ({
  tenant: 't',
  rules: [rule()],
  facts: new Map([['web', facts]]),
  regions: new Map(),
  latest: new Map(),
  states: new Map(),
  certificates: [],
  link: () => undefined,
  ...patch,
});
const states = (...s: AlertState[]) => new Map(s.map((x) => [alertStateId(x), x]));

test('down once per rule and channel when a region reaches the threshold, whatever the other regions', () => {
  const { envelopes, states: next } = evaluateAlerts(
    input({
      regions: new Map([['web', [region('eu', { fails: 3, down: true }), region('us')]]]),
      latest: new Map([['web', check(10 * MIN)]]),
    }),
  );
  assert.deepEqual(
    envelopes.map((e) => [e.channel, e.notification.event, e.key, e.groupWindowMs]),
    [
      ['ops', 'target.down', `monitor:web:target.down:${10 * MIN}`, 10_000],
      ['pager', 'target.down', `monitor:web:target.down:${10 * MIN}`, 10_000],
    ],
  );
  assert.equal(envelopes[0]!.notification.title, 'Web is down');
  assert.match(envelopes[0]!.notification.text, /failed 3 checks in a row \(eu\): refused: ECONNREFUSED/);
  assert.deepEqual(next, [
    {
      tenant: 't',
      rule: 'r',
      target: 'web',
      down: true,
      degraded: false,
      since: 10 * MIN,
      notifiedAt: 10 * MIN,
    },
  ]);
  // Already told: the same state again tells nothing.
  const again = evaluateAlerts(
    input({
      regions: new Map([['web', [region('eu', { fails: 4, down: true })]]]),
      latest: new Map([['web', check(11 * MIN)]]),
      states: states(next[0]!),
    }),
  );
  assert.deepEqual([again.envelopes, again.states], [[], []]);
});

test("a rule's own downAfter, reminders while down, recovery only once every region is up", () => {
  const early = rule({ downAfter: 1, remindEveryMinutes: 30, channels: ['ops'] });
  const first = evaluateAlerts(
    input({
      rules: [early],
      regions: new Map([['web', [region('eu', { fails: 1 })]]]),
      latest: new Map([['web', check(0)]]),
    }),
  );
  assert.equal(first.envelopes[0]?.notification.event, 'target.down', 'before the incident opens');
  const down = first.states[0]!;
  const soon = evaluateAlerts(
    input({
      rules: [early],
      states: states(down),
      regions: new Map([['web', [region('eu', { fails: 20, down: true })]]]),
      latest: new Map([['web', check(20 * MIN)]]),
    }),
  );
  assert.deepEqual(soon.envelopes, []);
  const remind = evaluateAlerts(
    input({
      rules: [early],
      states: states(down),
      regions: new Map([['web', [region('eu', { fails: 31, down: true })]]]),
      latest: new Map([['web', check(30 * MIN)]]),
    }),
  );
  assert.equal(remind.envelopes[0]?.notification.event, 'target.reminder');
  assert.match(remind.envelopes[0].notification.text, /down for 30 min/);
  const partly = evaluateAlerts(
    input({
      rules: [early],
      states: states(remind.states[0]!),
      regions: new Map([['web', [region('eu'), region('us', { down: true })]]]),
      latest: new Map([['web', check(31 * MIN, { ok: true, error: null })]]),
    }),
  );
  assert.deepEqual(partly.envelopes, [], 'us is still down');
  const up = evaluateAlerts(
    input({
      rules: [early],
      states: states(remind.states[0]!),
      regions: new Map([['web', [region('eu'), region('us')]]]),
      latest: new Map([['web', check(32 * MIN, { ok: true, error: null })]]),
    }),
  );
  assert.deepEqual(
    up.envelopes.map((e) => [e.notification.event, e.notification.action, e.notification.severity]),
    [['target.up', 'resolve', 'ok']],
  );
  assert.match(up.envelopes[0]!.notification.text, /up after 32 min down/);
});

test('maintenance, rules for other targets, recovery off and degraded on', () => {
  const quiet = evaluateAlerts(
    input({
      regions: new Map([['web', [region('eu', { fails: 5 })]]]),
      latest: new Map([['web', check(0, { state: 'maintenance' })]]),
    }),
  );
  assert.deepEqual(quiet.envelopes, [], 'nothing in maintenance');
  const other = evaluateAlerts(
    input({
      rules: [rule({ tags: ['staging'] })],
      regions: new Map([['web', [region('eu', { fails: 5 })]]]),
      latest: new Map([['web', check(0)]]),
    }),
  );
  assert.deepEqual(other.envelopes, []);
  const slowRule = rule({
    notifyOn: { recovery: false, degraded: true, certificate: false },
    channels: ['ops'],
  });
  const slow = evaluateAlerts(
    input({
      rules: [slowRule],
      regions: new Map([['web', [region('eu', { slow: 3 })]]]),
      latest: new Map([['web', check(0, { ok: true, error: null, state: 'degraded', durationMs: 900 })]]),
    }),
  );
  assert.deepEqual(
    slow.envelopes.map((e) => [e.notification.event, e.notification.severity]),
    [['target.degraded', 'warning']],
  );
  assert.match(slow.envelopes[0]!.notification.text, /900 ms \(over 500 ms\)/);
  const fast = evaluateAlerts(
    input({
      rules: [slowRule],
      states: states(slow.states[0]!),
      regions: new Map([['web', [region('eu')]]]),
      latest: new Map([['web', check(MIN, { ok: true, error: null })]]),
    }),
  );
  assert.deepEqual(
    fast.envelopes.map((e) => e.notification.event),
    ['target.degraded.resolved'],
  );
});

test('certificate thresholds: only the crossed ones, and one warning for the smallest new one', () => {
  const expires = 5 * 86_400_000;
  const candidates = certificateCandidates(
    [check(0, { tlsExpiresAt: expires, ok: true, error: null })],
    new Map([['web', facts]]),
  );
  assert.deepEqual(
    candidates.map((c) => c.days),
    [21, 14, 7],
  );
  const told = warningsToTell(candidates);
  assert.deepEqual(
    told.map((c) => c.days),
    [7],
  );
  const { envelopes } = evaluateAlerts(input({ certificates: told }));
  assert.deepEqual(
    envelopes.map((e) => [e.notification.event, e.notification.severity, e.notification.title]),
    [
      ['certificate.expiring', 'critical', 'Certificate of Web expires in 5 days'],
      ['certificate.expiring', 'critical', 'Certificate of Web expires in 5 days'],
    ],
  );
  assert.deepEqual(
    certificateCandidates([check(0, { tlsExpiresAt: 40 * 86_400_000 })], new Map([['web', facts]])),
    [],
  );
});

test('spans read as people say them', () => {
  assert.deepEqual(
    [span(40_000), span(12 * MIN), span(185 * MIN), span(50 * 60 * MIN)],
    ['40 s', '12 min', '3 h 5 min', '2 d 2 h'],
  );
});
