import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_TOKEN, eventually } from './helpers/server.ts';
import { runBeacon, spawnRole, type RoleProcess } from './helpers/roles.ts';
import { sqliteStore } from '../src/roles/store-sqlite.ts';

// This test stops and starts a broker, so it runs its own (scripts/kafka with another home and
// ports) and never disturbs the broker other test files share.
const SCRIPT = fileURLToPath(new URL('../scripts/kafka', import.meta.url));
const HOME = fileURLToPath(new URL('../.services/kafka-outage', import.meta.url));
const brokerEnv = {
  ...process.env,
  BEACON_KAFKA_HOME: HOME,
  BEACON_KAFKA_PORT: '19094',
  BEACON_KAFKA_CONTROLLER_PORT: '19095',
};
const broker = (command: 'start' | 'stop') =>
  execFileSync(SCRIPT, [command], { env: brokerEnv, encoding: 'utf8', timeout: 240_000 });

const dataDir = mkdtempSync(join(tmpdir(), 'beacon-outage-'));
const env = {
  BEACON_LOG: 'kafka://127.0.0.1:19094',
  BEACON_DATA_DIR: dataDir,
  BEACON_ADMIN_TOKEN: ADMIN_TOKEN,
  BEACON_KAFKA_PARTITIONS: '2',
  BEACON_KAFKA_REQUEST_TIMEOUT_MS: '2000',
};
let api: RoleProcess;
let sink: RoleProcess;

before(async () => {
  broker('start');
  runBeacon(['setup'], env);
  api = await spawnRole('api', env);
  sink = await spawnRole('sink', env);
});

after(async () => {
  await Promise.all([api?.stop(), sink?.stop()]);
  broker('stop');
  rmSync(HOME, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

function post(key: string) {
  return fetch(`${api.url}/v1/messages`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      'content-type': 'application/json',
      'idempotency-key': key,
    },
    body: JSON.stringify({ key }),
  });
}

async function storedIds(): Promise<Set<string>> {
  const store = sqliteStore({ dataDir });
  await store.open();
  try {
    const rows = await store.messages.list({ tenant: 'default', limit: 10_000 });
    return new Set(rows.map((r) => r.id));
  } finally {
    await store.close();
  }
}

test('broker stopped: ingest answers 503 LOG_UNAVAILABLE; restarted: it recovers and every 202 is stored once', async () => {
  const acknowledged = new Map<string, string>();
  // A client as the API asks: on 503 it retries the same key after a moment. A broker just started
  // (or restarted) under a loaded machine may miss the 2 s request timeout once or twice; a retry of
  // a refused key must still be stored exactly once.
  const accept = (key: string) =>
    eventually(
      async () => {
        const res = await post(key);
        const text = await res.text();
        if (res.status === 503) return undefined;
        assert.equal(res.status, 202, `${key}: ${text}`);
        acknowledged.set(key, (JSON.parse(text) as { id: string }).id);
        return true;
      },
      60_000,
      `${key} accepted`,
    );
  for (let i = 0; i < 20; i++) await accept(`before-${i}`);
  for (const role of [api, sink]) {
    const ready = await fetch(`${role.url}/readyz`);
    assert.equal(ready.status, 200, `${role.url}/readyz with the broker up: ${await ready.text()}`);
  }

  broker('stop');
  // Readiness reports the log: with the broker down neither role can do its work.
  for (const role of [api, sink]) {
    const res = await fetch(`${role.url}/readyz`);
    const body = (await res.json()) as { status: string; checks: Record<string, string> };
    assert.equal(res.status, 503, `${role.url}/readyz with the broker down: ${JSON.stringify(body)}`);
    assert.equal(body.checks.store, 'ok');
    assert.notEqual(body.checks.log, 'ok');
  }
  const refused: string[] = [];
  for (let i = 0; i < 5; i++) {
    const res = await post(`during-${i}`);
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'LOG_UNAVAILABLE');
    assert.ok(Number(res.headers.get('retry-after')) >= 1, 'Retry-After is set');
    refused.push(`during-${i}`);
  }

  broker('start');
  // The client retries what was refused, as Retry-After tells it to, until Kafka takes it.
  for (const key of refused) {
    await eventually(
      async () => {
        const res = await post(key);
        if (res.status !== 202) return undefined;
        acknowledged.set(key, ((await res.json()) as { id: string }).id);
        return true;
      },
      60_000,
      `${key} accepted after the restart`,
    );
  }
  for (let i = 0; i < 20; i++) await accept(`after-${i}`);
  await eventually(
    async () => ((await fetch(`${api.url}/readyz`)).status === 200 ? true : undefined),
    60_000,
    'api ready again once the broker is back',
  );

  const ids = await eventually(
    async () => {
      const ids = await storedIds();
      return ids.size >= acknowledged.size ? ids : undefined;
    },
    60_000,
    'every acknowledged message stored',
  );
  assert.equal(ids.size, acknowledged.size, 'nothing stored twice');
  for (const [key, id] of acknowledged)
    assert.ok(ids.has(id), `${key} (${id}) was acknowledged but not stored`);
});
