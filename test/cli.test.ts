import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { spawnBeacon } from './helpers/process.ts';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const run = promisify(execFile);
const beacon = (...args: string[]) =>
  run(process.execPath, [MAIN, ...args], { env: { ...process.env, BEACON_LOG_LEVEL: 'warn' } });

test('beacon token create works on a fresh data directory, and the token it prints is accepted', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'beacon-cli-'));
  try {
    const created = await beacon('token', 'create', '--scope', 'ingest', '--data-dir', dataDir, '--json');
    const { token, scopes } = JSON.parse(created.stdout) as { token: string; scopes: string[] };
    assert.match(token, /^bcn_/);
    assert.deepEqual(scopes, ['ingest']);
    // The store had never been started: the default tenant and its admin token were made first.
    const admin = /admin token \(shown once\):\n(bcn_\S+)/.exec(created.stderr)?.[1];
    assert.ok(admin, created.stderr);

    const listed = await beacon('token', 'list', '--data-dir', dataDir);
    assert.equal(listed.stdout.trim().split('\n').length, 2, listed.stdout);
    assert.doesNotMatch(listed.stdout + listed.stderr, /bcn_/, 'secrets are never listed');

    const server = await spawnBeacon(dataDir);
    try {
      const post = (auth: string) =>
        fetch(`${server.url}/v1/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' },
          body: '{"hello":"cli"}',
        });
      assert.equal((await post(token)).status, 202);
      assert.equal((await post(admin)).status, 202);
      assert.doesNotMatch(server.output(), /admin token/i, 'a later start does not make another admin token');
    } finally {
      server.child.kill('SIGTERM');
      assert.equal(await server.exited, 0);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
