import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertExactlyOnce, postLoop, storedIds } from './helpers/load.ts';
import { ownServer } from './helpers/postgres.ts';
import { spawnBeacon } from './helpers/process.ts';
import { eventually } from './helpers/server.ts';

const TOKEN = 'pg-outage-admin-token-0123456789abcd';

test('PostgreSQL restarted under load: the sink retries with backoff and every 202 is stored exactly once', async (t) => {
  // A server of its own (scripts/postgres with its own directory and port): stopping the shared one
  // would break the other test files running beside this one.
  const server = await ownServer('pg-outage');
  const dir = mkdtempSync(join(tmpdir(), 'beacon-pg-outage-'));
  server.start();
  const beacon = await spawnBeacon(dir, { BEACON_ADMIN_TOKEN: TOKEN }, ['--store', server.url]);
  try {
    const load = postLoop(beacon.url, 8, TOKEN);
    await new Promise((r) => setTimeout(r, 1000));

    server.stop();
    // While the store is down, ingest still answers 202 (the log holds the records) and queries say
    // why they cannot answer.
    await new Promise((r) => setTimeout(r, 1500));
    const during = await fetch(`${beacon.url}/v1/messages`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(during.status, 503);
    assert.equal(((await during.json()) as { error: { code: string } }).error.code, 'STORE_UNAVAILABLE');
    assert.equal((await fetch(`${beacon.url}/readyz`)).status, 503);

    server.start();
    await new Promise((r) => setTimeout(r, 1000));
    const accepted = await load.stop();
    assert.ok(accepted.size > 100, `load produced ${accepted.size} acceptances`);

    const stored = await eventually(
      async () => {
        const ids = await storedIds(beacon.url, TOKEN);
        return ids.length >= accepted.size ? ids : undefined;
      },
      30_000,
      'the sink to catch up after PostgreSQL came back',
    );
    assertExactlyOnce(accepted, stored);
    const retries = beacon.output().match(/sink batch failed; retrying/g)?.length ?? 0;
    t.diagnostic(
      `${accepted.size} messages answered 202 around the restart; the sink retried ${retries} times`,
    );
    assert.equal(stored.length, accepted.size, 'nothing stored that was not accepted');
    // The sink saw the outage as STORE_UNAVAILABLE and retried, rather than failing or dropping.
    assert.ok(retries > 0, 'the sink retried');
    assert.match(beacon.output(), /STORE_UNAVAILABLE/);
  } finally {
    beacon.child.kill('SIGTERM');
    await beacon.exited;
    server.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});
