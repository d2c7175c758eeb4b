import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertExactlyOnce, postLoop, storedIds } from './helpers/load.ts';
import { spawnBeacon } from './helpers/process.ts';
import { eventually } from './helpers/server.ts';

const TOKEN = 'crash-test-admin-token-0123456789';

test('kill -9 under load: after restart every 202 is stored exactly once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'beacon-crash-'));
  try {
    const env = { BEACON_ADMIN_TOKEN: TOKEN };
    const first = await spawnBeacon(dir, env);
    const load = postLoop(first.url, 16, TOKEN);
    await new Promise((r) => setTimeout(r, 1500));
    first.child.kill('SIGKILL');
    await first.exited;
    const accepted = await load.stop();
    assert.ok(accepted.size > 100, `load produced ${accepted.size} acceptances before the kill`);

    const second = await spawnBeacon(dir, env);
    try {
      const stored = await eventually(
        async () => {
          const ids = await storedIds(second.url, TOKEN);
          return ids.length >= accepted.size ? ids : undefined;
        },
        30_000,
        'the sink to catch up after restart',
      );
      assertExactlyOnce(accepted, stored);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGTERM drains: it stops accepting, stores what was accepted, and exits 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'beacon-term-'));
  try {
    const env = { BEACON_ADMIN_TOKEN: TOKEN };
    const first = await spawnBeacon(dir, env);
    const load = postLoop(first.url, 16, TOKEN);
    await new Promise((r) => setTimeout(r, 1000));
    first.child.kill('SIGTERM');
    const code = await first.exited;
    const accepted = await load.stop();
    assert.equal(code, 0, `exit code 0 after SIGTERM; output:\n${first.output()}`);

    // Everything accepted was projected before exit: a restart finds it all without catching up.
    const second = await spawnBeacon(dir, env);
    try {
      assertExactlyOnce(accepted, await storedIds(second.url, TOKEN));
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
