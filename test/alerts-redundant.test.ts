// One alert from redundant instances: two `beacon start` processes on the same PostgreSQL store and
// Kafka log, each probing the same targets in the same region, each running sinks and a delivery
// worker. Every check is stored once, every change is told once.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freshDatabase, sqlRows } from './helpers/postgres.ts';
import { startReceiver, type Receiver } from './helpers/receiver.ts';
import { runBeacon, spawnRole, type RoleProcess } from './helpers/roles.ts';
import { eventually } from './helpers/server.ts';
import { dropTopics, ensureKafka, KAFKA_URL, uniquePrefix } from './helpers/services.ts';

const TOKEN = 'alerts-redundant-admin-token-0123';
ensureKafka();
const prefix = uniquePrefix('alerts');
const dirs: string[] = [];
const running: RoleProcess[] = [];
after(async () => {
  for (const p of running) await p.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await dropTopics(prefix);
});

const accepted = (r: Receiver, event: string) =>
  r.received
    .filter((x) => x.status < 300)
    .flatMap((x) => (x.json as { items: { event: string }[] }).items)
    .filter((i) => i.event === event).length;

test('two beacon start processes probing the same targets: each check stored once, each change told once', async () => {
  const db = await freshDatabase();
  const env = {
    BEACON_ADMIN_TOKEN: TOKEN,
    BEACON_STORE: db.url,
    BEACON_LOG: KAFKA_URL,
    BEACON_KAFKA_TOPIC_PREFIX: prefix,
    BEACON_KAFKA_PARTITIONS: '2',
    BEACON_MONITOR_REFRESH_MS: '200',
    BEACON_NOTIFY_POLL_MS: '50',
    BEACON_NOTIFY_BACKOFF_MS: '100',
  };
  runBeacon(['setup'], env);
  const hook = await startReceiver(() => ({ status: 204 }));
  const svc = await startReceiver(() => ({ status: 500 }));
  try {
    for (let i = 0; i < 2; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'beacon-redundant-'));
      dirs.push(dir);
      running.push(await spawnRole('start', { ...env, BEACON_DATA_DIR: dir }));
    }
    const [a, b] = running as [RoleProcess, RoleProcess];
    const post = async (beacon: RoleProcess, path: string, body: unknown) => {
      const res = await fetch(beacon.url + path, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 201, await res.text());
    };
    await post(a, '/v1/channels', { id: 'hook', name: 'Hook', url: `json://127.0.0.1:${hook.port}/hook` });
    await post(b, '/v1/alert-rules', { id: 'all', channels: ['hook'], groupWindowSeconds: 0 });
    await post(a, '/v1/targets', { id: 'svc', url: svc.url, intervalSeconds: 1, downAfter: 2, upAfter: 2 });

    await eventually(
      () => Promise.resolve(accepted(hook, 'target.down') > 0 ? true : undefined),
      60_000,
      'down',
    );
    svc.answer = () => ({ status: 200, body: 'ok' });
    await eventually(() => Promise.resolve(accepted(hook, 'target.up') > 0 ? true : undefined), 60_000, 'up');
    // Both probers keep checking for a while; nothing more is told.
    const seen = svc.received.length;
    await eventually(() => Promise.resolve(svc.received.length >= seen + 6 ? true : undefined), 30_000);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(accepted(hook, 'target.down'), 1, 'one down, not one per instance');
    assert.equal(accepted(hook, 'target.up'), 1);

    const probes = svc.received.length;
    const [stored] = await sqlRows<{ n: string }>(
      db.url,
      "SELECT count(*) AS n FROM monitor_checks WHERE target = 'svc'",
    );
    const n = Number(stored!.n);
    assert.ok(n < probes, `${n} checks stored for ${probes} probes: the twin probers' slots collapse`);
    const [dupes] = await sqlRows<{ n: string }>(
      db.url,
      `SELECT count(*) AS n FROM (SELECT scheduled_at FROM monitor_checks WHERE target = 'svc'
         GROUP BY scheduled_at, region HAVING count(*) > 1) d`,
    );
    assert.equal(Number(dupes!.n), 0);
    const rows = await sqlRows<{ event: string; state: string }>(
      db.url,
      "SELECT event, state FROM notify_outbox WHERE subject = 'svc' ORDER BY id",
    );
    assert.deepEqual(
      rows.map((r) => [r.event, r.state]),
      [
        ['target.down', 'sent'],
        ['target.up', 'sent'],
      ],
    );
  } finally {
    await hook.close();
    await svc.close();
  }
});
