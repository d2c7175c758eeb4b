import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sqliteStore } from '../src/roles/store-sqlite.ts';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

test('SIGTERM: beacon probe leaves checks that outlast the drain unrecorded and exits 0 before its shutdown timeout', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'beacon-probe-drain-'));
  // A site that accepts connections and never answers: every check would run its whole 30 s timeout.
  const sockets = new Set<Socket>();
  const site = createServer((s) => sockets.add(s.on('close', () => sockets.delete(s))));
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  const port = (site.address() as { port: number }).port;
  try {
    const store = sqliteStore({ dataDir: dir });
    await store.open();
    await store.tenants.ensure({ id: 'default', name: 'Default', createdAt: Date.now() });
    await store.close();
    const file = join(dir, 'targets.yaml');
    let yaml = 'targets:\n';
    for (let i = 0; i < 60; i++)
      yaml += `  - id: hang${i}\n    url: http://127.0.0.1:${port}/${i}\n    intervalSeconds: 30\n    timeoutMs: 30000\n`;
    writeFileSync(file, yaml);
    const child = spawn(process.execPath, [MAIN, 'probe', '--port', '0', '--host', '127.0.0.1'], {
      env: {
        ...process.env,
        BEACON_LOG_LEVEL: 'warn',
        BEACON_DATA_DIR: dir,
        BEACON_MONITOR_TARGETS_FILE: file,
        BEACON_MONITOR_PER_HOST: '100',
        // Forced exit (code 1) 5 s after this: 9 s, well before the checks' own 30 s timeout.
        BEACON_SHUTDOWN_TIMEOUT_MS: '4000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    // Wait for checks in flight: connections open at the site.
    while (sockets.size < 3) {
      assert.equal(child.exitCode, null, `beacon probe exited early:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGTERM');
    const code = await exited;
    assert.equal(code, 0, `the probe drained and exited by itself:\n${output}`);
    assert.match(output, /checks still running are left unrecorded/);
  } finally {
    for (const s of sockets) s.destroy();
    site.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
