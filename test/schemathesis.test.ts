// The API as its OpenAPI document says it is: schemathesis generates requests from /openapi.json
// (examples, boundary values, random and invalid data) and checks every answer against the document
// with every check on: no 5xx, no status, content type, header or body the document does not
// describe, no schema-valid request refused and no schema-violating one accepted.
// Settings: test/schemathesis/schemathesis.toml. scripts/install-deps installs schemathesis.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { encodeCursor } from '../src/wire/cursor.ts';
import { ADMIN_TOKEN, startTestBeacon } from './helpers/server.ts';

const SCHEMATHESIS = fileURLToPath(new URL('../.services/python/bin/schemathesis', import.meta.url));
const SETTINGS = fileURLToPath(new URL('./schemathesis/schemathesis.toml', import.meta.url));
const run = promisify(execFile);

/**
 * A valid `after` cursor for each listing. A cursor is opaque: no schema can say which strings are
 * ones the server issued, so schemathesis is given a real one to send (its own strings are BAD_CURSOR,
 * tested in src/wire/cursor.test.ts). A listing missing here fails the test.
 */
const CURSORS: Record<string, readonly (string | number)[]> = {
  'GET /v1/messages': [1_700_000_000_000, '0190a8b0-0000-7000-8000-000000000000'],
  'GET /v1/spaces': ['lobby'],
  'GET /v1/doorways': ['main'],
  'GET /v1/sensors': ['door'],
  'GET /v1/placements': ['0190a8b0-0000-7000-8000-000000000000'],
  'GET /v1/counts': ['lobby'],
  'GET /v1/sensor-events/unplaced': [1_700_000_000_000, 'id:door:1'],
  'GET /v1/targets': ['web'],
  'GET /v1/targets/{id}/checks': [1_700_000_000_000, 'default'],
  'GET /v1/targets/{id}/incidents': [1_700_000_000_000],
  'GET /v1/tenants': ['default'],
  'GET /v1/dead-letters': [1_700_000_000_000, 'sink-messages', 'messages', 0, 1],
  'GET /v1/spaces/{id}/corrections': [1_700_000_000_000, 1_700_000_000_000, 'c1'],
  'GET /v1/sensor-health': ['door'],
  'GET /v1/doorway-drift': ['main'],
  'GET /v1/sites': [1_700_000_000_000, 'st_1'],
  'GET /v1/occupancy-audit': ['0190a8b0-0000-7000-8000-000000000000'],
  'GET /v1/occupancy-alerts': ['0190a8b0-0000-7000-8000-000000000000'],
  'GET /v1/occupancy-notifications': ['0190a8b0-0000-7000-8000-000000000000'],
  'GET /v1/channels': ['ops'],
  'GET /v1/channels/{id}/deliveries': [1],
  'GET /v1/targets/{id}/deliveries': [1],
  'GET /v1/alert-rules': ['default'],
  'GET /v1/maintenance-windows': ['weekly'],
  'GET /v1/status-pages': ['main'],
  'GET /v1/status-pages/{id}/updates': [1_700_000_000_000, 'u1'],
};

test('schemathesis finds no 5xx and no answer outside the OpenAPI document', async () => {
  const beacon = await startTestBeacon({ 'rateLimit.perSecond': 0 });
  const dir = mkdtempSync(join(tmpdir(), 'beacon-schemathesis-'));
  try {
    const doc = (await (await fetch(`${beacon.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
    };
    const operations: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        // Newest-first listings (audit, alerts, notifications) page with `before`.
        const cursor = operation.parameters?.find(
          (p) => ['after', 'before'].includes(p.name) && p.in === 'query',
        );
        if (!cursor) continue;
        const name = `${method.toUpperCase()} ${path}`;
        const key = CURSORS[name];
        assert.ok(key, `schemathesis.test.ts has no cursor for ${name}`);
        operations.push(
          `[[operations]]\ninclude-name = "${name}"\nparameters = { "query.${cursor.name}" = "${encodeCursor(key)}" }\n`,
        );
      }
    }
    // A dead letter's id is a cursor-like key too.
    operations.push(
      `[[operations]]\ninclude-name = "DELETE /v1/dead-letters/{id}"\nparameters = { "path.id" = "${encodeCursor(['sink-messages', 'messages', 0, 1])}" }\n`,
    );
    const config = join(dir, 'schemathesis.toml');
    writeFileSync(config, `${readFileSync(SETTINGS, 'utf8')}\n${operations.join('\n')}`);
    const outcome = await run(
      SCHEMATHESIS,
      [
        '--config-file',
        config,
        'run',
        `${beacon.url}/openapi.json`,
        '--checks',
        'all',
        '--phases',
        'examples,coverage,fuzzing',
        '--workers',
        '1',
        '--header',
        `Authorization: Bearer ${ADMIN_TOKEN}`,
        '--no-color',
      ],
      { maxBuffer: 64 * 1024 * 1024, timeout: 600_000 },
    ).catch((err: { code?: number; stdout?: string; stderr?: string }) => err);
    const output = `${outcome.stdout ?? ''}${outcome.stderr ?? ''}`;
    assert.ok(!('code' in outcome) || outcome.code === 0, output.slice(-30_000));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await beacon.destroy();
  }
});
