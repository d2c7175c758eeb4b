// What every store backend must do for the notify outbox, channels, and alerting's definitions.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Notification } from '../../src/notify/notification.ts';
import type { Channel } from '../../src/notify/channels.ts';
import type { BeaconStore } from '../../src/roles/store.ts';
import type { StoreContractTarget } from './store.contract.ts';

const T0 = Date.UTC(2026, 2, 10);

const note = (subject: string, event = 'target.down'): Notification => ({
  source: 'monitor',
  subject,
  event,
  severity: 'critical',
  action: 'trigger',
  dedupKey: `k:${subject}`,
  title: `${subject} is down`,
  text: 'text',
  fields: { region: 'eu' },
  at: T0,
});

const channel = (id: string, patch: Partial<Channel> = {}): Channel => ({
  tenant: 't1',
  id,
  name: `Channel ${id}`,
  kind: 'webhook',
  url: `json://hooks.test/${id}`,
  source: 'api',
  createdAt: T0,
  updatedAt: T0,
  ...patch,
});

const envelope = (subject: string, groupWindowMs = 0, ch = 'ops') => ({
  tenant: 't1',
  channel: ch,
  key: `monitor:${subject}:target.down:${T0}`,
  notification: note(subject),
  groupWindowMs,
});

/** Runs the notify contract against a backend. */
export function runNotifyStoreContract(target: StoreContractTarget): void {
  const it = (name: string, fn: (store: BeaconStore) => Promise<void>): void =>
    void test(name, async () => {
      const store = await target.create();
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    });

  describe(`Notify store contract: ${target.name}`, () => {
    it('channels: create once, read back (URL and template kept), update, list by keyset, delete', async (store) => {
      const a = channel('a', { template: '{"t":"{{title}}"}' });
      assert.equal(await store.channels.create(a), true);
      assert.equal(await store.channels.create(a), false);
      assert.deepEqual(await store.channels.get('t1', 'a'), a);
      assert.equal(await store.channels.get('t2', 'a'), undefined, 'another tenant sees nothing');
      assert.equal(
        await store.channels.update('t1', 'a', { name: 'A', url: 'slack://A/B/C' }, 'slack', T0 + 1),
        true,
      );
      const changed = await store.channels.get('t1', 'a');
      assert.deepEqual([changed?.name, changed?.kind, changed?.template], ['A', 'slack', undefined]);
      for (const id of ['c', 'B', 'b']) await store.channels.create(channel(id));
      const first = await store.channels.list('t1', 2);
      const rest = await store.channels.list('t1', 10, first.at(-1)!.id);
      assert.deepEqual(
        [...first, ...rest].map((c) => c.id),
        ['B', 'a', 'b', 'c'],
      );
      assert.equal(await store.channels.delete('t1', 'a'), true);
      assert.equal(await store.channels.delete('t1', 'a'), false);
      const file = await store.channels.replaceFileChannels([
        channel('f', { source: 'file' }),
        channel('B', { source: 'file' }),
      ]);
      assert.deepEqual(file, { upserted: 1, deleted: 0 }, 'an API channel of the same id wins');
      assert.deepEqual(await store.channels.replaceFileChannels([]), { upserted: 0, deleted: 1 });
    });

    it('enqueue: once per (tenant, channel, key); a grouping window joins the open group', async (store) => {
      await store.channels.create(channel('ops'));
      const fresh = await store.transaction((tx) =>
        tx.notifications.enqueue([envelope('a', 5000), envelope('b', 5000), envelope('a', 5000)], T0),
      );
      assert.equal(fresh, 2, 'the repeated key is dropped');
      const later = await store.transaction((tx) =>
        tx.notifications.enqueue([envelope('c', 5000), envelope('d', 0)], T0 + 2000),
      );
      assert.equal(later, 2);
      assert.deepEqual(await store.outbox.backlog(T0 + 2000), { pending: 4, due: 1 });
      const due = await store.outbox.claim({ now: T0 + 5000, owner: 'w1', leaseMs: 1000, limit: 10 });
      assert.deepEqual(
        due.map((r) => [r.notification.subject, r.dueAt, r.attempts]),
        [
          ['a', T0 + 5000, 1],
          ['b', T0 + 5000, 1],
          ['c', T0 + 5000, 1],
          ['d', T0 + 2000, 1],
        ],
        'c joined the group a opened; d does not group',
      );
    });

    it('claims lease rows to one worker; settling needs the lease; pauses and retries wait', async (store) => {
      await store.channels.create(channel('ops'));
      await store.transaction((tx) =>
        tx.notifications.enqueue(
          ['a', 'b', 'c', 'd'].map((s) => envelope(s)),
          T0,
        ),
      );
      const [one, two] = await Promise.all([
        store.outbox.claim({ now: T0, owner: 'w1', leaseMs: 1000, limit: 2 }),
        store.outbox.claim({ now: T0, owner: 'w2', leaseMs: 1000, limit: 10 }),
      ]);
      const ids = [...one, ...two].map((r) => r.id);
      assert.equal(ids.length, 4);
      assert.equal(new Set(ids).size, 4, 'no row leased twice');
      assert.deepEqual(
        await store.outbox.claim({ now: T0 + 500, owner: 'w3', leaseMs: 1000, limit: 10 }),
        [],
        'all leased',
      );

      const mine = one[0]!;
      await store.outbox.settle('w2', [
        { id: mine.id, state: 'sent', at: T0 + 1, dueAt: T0, status: 200, answer: 'ok', batchSize: 1 },
      ]);
      assert.equal(
        (await store.outbox.history({ tenant: 't1', limit: 10 })).find((r) => r.id === mine.id)?.state,
        'pending',
        'not w2’s lease',
      );
      await store.outbox.settle('w1', [
        { id: mine.id, state: 'sent', at: T0 + 1, dueAt: T0, status: 200, answer: 'ok', batchSize: 2 },
        {
          id: one[1]!.id,
          state: 'pending',
          at: T0 + 1,
          dueAt: T0 + 60_000,
          status: 503,
          answer: 'busy',
          batchSize: 2,
        },
      ]);
      // A lease that ran out is taken over, with its attempt counted again.
      const taken = await store.outbox.claim({ now: T0 + 1000, owner: 'w3', leaseMs: 1000, limit: 10 });
      assert.deepEqual(taken.map((r) => r.attempts).sort(), [2, 2], 'w2’s two rows, on their second attempt');
      await store.outbox.pause('t1', 'ops', T0 + 100_000);
      await store.outbox.settle(
        'w3',
        taken.map((r) => ({
          id: r.id,
          state: 'pending' as const,
          at: T0 + 1001,
          dueAt: T0 + 1001,
          status: 429,
          answer: 'slow',
          batchSize: 1,
        })),
      );
      assert.deepEqual(
        await store.outbox.claim({ now: T0 + 90_000, owner: 'w4', leaseMs: 1000, limit: 10 }),
        [],
        'the channel is paused',
      );
      assert.equal(
        (await store.outbox.claim({ now: T0 + 100_001, owner: 'w4', leaseMs: 1000, limit: 10 })).length,
        3,
      );

      const history = await store.outbox.history({
        tenant: 't1',
        source: 'monitor',
        subject: mine.notification.subject,
        limit: 10,
      });
      assert.deepEqual(
        history.map((r) => [r.state, r.status, r.answer, r.batchSize, r.sentAt]),
        [['sent', 200, 'ok', 2, T0 + 1]],
      );
      assert.deepEqual(
        await store.outbox.history({ tenant: 't2', limit: 10 }),
        [],
        'tenants see their own history only',
      );
      const page = await store.outbox.history({ tenant: 't1', limit: 2 });
      const next = await store.outbox.history({ tenant: 't1', limit: 10, before: page.at(-1)!.id });
      assert.equal(page.length + next.length, 4);
      assert.equal(await store.outbox.prune(T0 + 1), 1, 'only rows no longer pending go');
    });

    it('alerting definitions: rules and windows by API and file, a rule’s states go with it', async (store) => {
      const rule = {
        tenant: 't1',
        id: 'r',
        source: 'api' as const,
        createdAt: T0,
        updatedAt: T0,
        targets: [],
        tags: ['web'],
        channels: ['ops'],
        remindEveryMinutes: 0,
        notifyOn: { recovery: true, degraded: false, certificate: true },
        groupWindowSeconds: 10,
      };
      assert.equal(await store.alertRules.create(rule), true);
      assert.equal(await store.alertRules.create(rule), false);
      assert.deepEqual(await store.alertRules.get('t1', 'r'), rule);
      await store.transaction((tx) =>
        tx.alerts.putAlertStates([
          { tenant: 't1', rule: 'r', target: 'x', down: true, degraded: false, since: T0, notifiedAt: T0 },
        ]),
      );
      assert.equal((await store.transaction((tx) => tx.alerts.alertStates('t1', ['x']))).length, 1);
      assert.equal(await store.alertRules.delete('t1', 'r'), true);
      assert.deepEqual(await store.transaction((tx) => tx.alerts.alertStates('t1', ['x'])), []);
      const window = {
        tenant: 't1',
        id: 'w',
        source: 'file' as const,
        createdAt: T0,
        updatedAt: T0,
        title: 'Works',
        targets: ['x'],
        tags: [],
        start: '2026-03-10T02:00',
        end: '2026-03-10T03:00',
        timeZone: 'UTC',
      };
      assert.deepEqual(await store.maintenance.replaceFile([window]), { upserted: 1, deleted: 0 });
      assert.deepEqual(await store.transaction((tx) => tx.alerts.maintenanceWindows('t1')), [window]);
      assert.deepEqual(await store.maintenance.replaceFile([]), { upserted: 0, deleted: 1 });
      const warnings = [{ tenant: 't1', target: 'x', expiresAt: T0 + 86_400_000, days: 7, at: T0 }];
      assert.deepEqual(
        await store.transaction((tx) => tx.alerts.recordCertificateWarnings(warnings)),
        warnings,
      );
      assert.deepEqual(
        await store.transaction((tx) => tx.alerts.recordCertificateWarnings(warnings)),
        [],
        'once per threshold',
      );
    });
  });
}
