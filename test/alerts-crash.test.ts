// Delivery survives crashes: a notification queued when Beacon is killed with SIGKILL is sent once
// after the restart; one already sent is not sent again; and a change that happens while `beacon
// start` is down (a `beacon probe` kept checking) is told when it comes back.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { spawnBeacon } from './helpers/process.ts';
import { startReceiver, type Receiver } from './helpers/receiver.ts';
import { eventually } from './helpers/server.ts';
import type { RoleProcess } from './helpers/roles.ts';

const TOKEN = 'alerts-crash-admin-token-0123456789';
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const env = {
  BEACON_ADMIN_TOKEN: TOKEN,
  BEACON_MONITOR_REFRESH_MS: '200',
  BEACON_NOTIFY_POLL_MS: '100',
  BEACON_NOTIFY_BACKOFF_MS: '100',
  BEACON_NOTIFY_MAX_BACKOFF_MS: '200',
};

async function call(beacon: RoleProcess, path: string, body?: unknown): Promise<Response> {
  const res = await fetch(beacon.url + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (body !== undefined) assert.equal(res.status, 201, await res.clone().text());
  return res;
}

/** Notifications the receiver accepted, by event. */
const accepted = (r: Receiver, event: string) =>
  r.received
    .filter((x) => x.status < 300)
    .flatMap((x) => (x.json as { items: { event: string }[] }).items)
    .filter((i) => i.event === event).length;

async function setup(beacon: RoleProcess, hook: Receiver, url: string): Promise<void> {
  await call(beacon, '/v1/channels', { id: 'hook', name: 'Hook', url: `json://127.0.0.1:${hook.port}/hook` });
  await call(beacon, '/v1/alert-rules', { id: 'all', channels: ['hook'], groupWindowSeconds: 0 });
  await call(beacon, '/v1/targets', { id: 'svc', url, intervalSeconds: 1, downAfter: 2, upAfter: 1 });
}

test('kill -9 while a notification waits on a failing service: after the restart it arrives once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'beacon-alerts-crash-'));
  const hook = await startReceiver(() => ({ status: 503, body: 'maintenance' }));
  const svc = await startReceiver(() => ({ status: 500 }));
  // A kill that lands while an attempt is out leaves its row claimed until the lease its claimer set
  // ends (60 s by default): the restarted process, a new owner, takes it over after this. Only in this
  // test, where nothing is accepted before the kill: after an accepted attempt, a short lease would
  // send it again (delivery is at least once).
  const leased = { ...env, BEACON_NOTIFY_LEASE_MS: '2000' };
  let second: RoleProcess | undefined;
  try {
    const first = await spawnBeacon(dir, leased);
    await setup(first, hook, svc.url);
    await eventually(
      () => Promise.resolve(hook.received.length >= 2 ? true : undefined),
      30_000,
      'attempts on the refusing hook',
    );
    first.child.kill('SIGKILL');
    await first.exited;
    assert.equal(accepted(hook, 'target.down'), 0, 'nothing was accepted before the kill');

    hook.answer = () => ({ status: 204 });
    second = await spawnBeacon(dir, leased);
    await eventually(
      () => Promise.resolve(accepted(hook, 'target.down') > 0 ? true : undefined),
      30_000,
      'the down notification after restart',
    );
    // The target keeps failing for several more checks: still one notification.
    const before = (await (await call(second, '/v1/targets/svc/checks')).json()) as { items: unknown[] };
    await eventually(async () => {
      const page = (await (await call(second!, '/v1/targets/svc/checks')).json()) as { items: unknown[] };
      return page.items.length >= before.items.length + 3 ? true : undefined;
    }, 20_000);
    assert.equal(accepted(hook, 'target.down'), 1);
    const history = (await (await call(second, '/v1/targets/svc/deliveries')).json()) as {
      items: { event: string; state: string; attempts: number }[];
    };
    assert.deepEqual(
      history.items.map((d) => [d.event, d.state]),
      [['target.down', 'sent']],
    );
    assert.ok(history.items[0]!.attempts >= 2, 'the failed attempts before the kill count');
  } finally {
    second?.child.kill('SIGTERM');
    await second?.exited;
    await hook.close();
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a notification sent before kill -9 is not sent again; a recovery seen while beacon start was down is told when it returns', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'beacon-alerts-away-'));
  const hook = await startReceiver(() => ({ status: 204 }));
  const svc = await startReceiver(() => ({ status: 500 }));
  let last: RoleProcess | undefined;
  try {
    const first = await spawnBeacon(dir, env);
    await setup(first, hook, svc.url);
    await eventually(
      () => Promise.resolve(accepted(hook, 'target.down') > 0 ? true : undefined),
      30_000,
      'the down notification',
    );
    first.child.kill('SIGKILL');
    await first.exited;

    // Beacon start is away; a prober on the same data keeps checking, and sees the service recover.
    svc.answer = () => ({ status: 200, body: 'ok' });
    const seen = svc.received.length;
    const probe = spawn(
      process.execPath,
      [MAIN, 'probe', '--data-dir', dir, '--port', '0', '--host', '127.0.0.1'],
      {
        env: { ...process.env, BEACON_LOG_LEVEL: 'warn', ...env },
        stdio: 'ignore',
      },
    );
    await eventually(
      () => Promise.resolve(svc.received.length >= seen + 3 ? true : undefined),
      30_000,
      'checks by beacon probe',
    );
    probe.kill('SIGTERM');
    await new Promise((r) => probe.once('exit', r));
    assert.equal(accepted(hook, 'target.up'), 0, 'nobody projects or delivers while beacon start is away');

    // Back, without a prober of its own: its sinks project what the prober logged, and it delivers.
    last = await spawnBeacon(dir, { ...env, BEACON_MONITOR_ENABLED: 'false' });
    await eventually(
      () => Promise.resolve(accepted(hook, 'target.up') > 0 ? true : undefined),
      30_000,
      'the recovery after restart',
    );
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(accepted(hook, 'target.down'), 1, 'the down sent before the kill is not sent again');
    assert.equal(accepted(hook, 'target.up'), 1);
  } finally {
    last?.child.kill('SIGTERM');
    await last?.exited;
    await hook.close();
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
