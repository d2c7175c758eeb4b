import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { startBeacon, type RunningBeacon } from '../../src/roles/start.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

/** A real Beacon on an ephemeral port with its own data directory. */
export interface TestBeacon extends RunningBeacon {
  readonly dataDir: string;
  /** fetch against the server with the admin token (or `token`), JSON in and out. */
  request(path: string, init?: RequestInit & { token?: string | null; json?: unknown }): Promise<Response>;
  /** Stops the server and deletes its data. */
  destroy(): Promise<void>;
}

export async function startTestBeacon(
  flags: Record<string, unknown> = {},
  dataDir?: string,
): Promise<TestBeacon> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'beacon-test-'));
  const config = loadConfig({
    flags: {
      port: 0,
      host: '127.0.0.1',
      dataDir: dir,
      logLevel: 'silent',
      adminToken: ADMIN_TOKEN,
      ...flags,
    },
  });
  const beacon = await startBeacon(config);
  return Object.assign(beacon, {
    dataDir: dir,
    request(path: string, init: RequestInit & { token?: string | null; json?: unknown } = {}) {
      const headers = new Headers(init.headers);
      const token = init.token === undefined ? ADMIN_TOKEN : init.token;
      if (token !== null) headers.set('authorization', `Bearer ${token}`);
      let body = init.body;
      if (init.json !== undefined) {
        body = JSON.stringify(init.json);
        if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      }
      return fetch(beacon.url + path, { ...init, headers, body });
    },
    async destroy() {
      await beacon.close();
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** Polls `check` every `intervalMs` until it returns a value that is not undefined, or fails after `ms`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  ms = 10_000,
  what = 'condition',
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
