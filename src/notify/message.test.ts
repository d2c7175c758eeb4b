import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compose, MAX_LISTED } from './message.ts';
import type { Notification } from './notification.ts';

const n = (i: number, severity: Notification['severity'] = 'critical'): Notification => ({
  source: 'monitor',
  subject: `t${i}`,
  event: 'target.down',
  severity,
  action: 'trigger',
  dedupKey: `k${i}`,
  title: `t${i} is down`,
  text: 'text',
  fields: { region: 'eu' },
  at: 1000 + i,
});

test('one notification goes as it is; several become one digest listing them, the worst severity first', () => {
  const one = compose('id', [n(1)]);
  assert.deepEqual(
    [one.title, one.action, one.dedupKey, one.fields],
    ['t1 is down', 'trigger', 'k1', { region: 'eu' }],
  );
  const many = compose('id', [
    n(3, 'ok'),
    ...Array.from({ length: 40 }, (_, i) => n(i + 10)),
    n(2, 'warning'),
  ]);
  assert.equal(many.title, '42 notifications: 40 critical, 1 warning, 1 resolved');
  assert.equal(many.severity, 'critical');
  assert.equal(many.action, 'notify');
  const lines = many.text.split('\n');
  assert.equal(lines.length, MAX_LISTED + 1);
  assert.equal(lines[0], '• t2 is down', 'oldest first');
  assert.equal(lines.at(-1), '…and 17 more');
  assert.equal(many.items.length, 42);
});
