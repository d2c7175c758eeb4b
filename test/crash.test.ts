import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnBeacon } from './helpers/process.ts';
import { eventually } from './helpers/server.ts';

const TOKEN = 'crash-test-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

/**
 * Posts messages from `clients` concurrent loops until stopped; returns every id answered 202.
 * Errors (the server dying mid-request) are expected and not counted as accepted.
 */
function postLoop(url: string, clients: number): { stop: () => Promise<Set<string>> } {
  const accepted = new Set<string>();
  let running = true;
  let n = 0;
  const loops = Array.from({ length: clients }, async () => {
    while (running) {
      try {
        const single = n % 3 !== 0;
        const seq = n++;
        const res = await fetch(url + (single ? '/v1/messages' : '/v1/messages/batch'), {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify(single ? { seq } : Array.from({ length: 20 }, (_, i) => ({ seq, i }))),
        });
        if (res.status !== 202) continue;
        const body = (await res.json()) as { id?: string; items?: { id: string }[] };
        if (body.id) accepted.add(body.id);
        for (const item of body.items ?? []) accepted.add(item.id);
      } catch {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return accepted;
    },
  };
}

async function storedIds(url: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await fetch(`${url}/v1/messages?limit=1000${cursor ? `&after=${cursor}` : ''}`, {
      headers: auth,
    });
    const page = (await res.json()) as { items: { id: string }[]; next: string | null };
    ids.push(...page.items.map((i) => i.id));
    cursor = page.next;
  } while (cursor);
  return ids;
}

function assertExactlyOnce(accepted: Set<string>, stored: string[]): void {
  const counts = new Map<string, number>();
  for (const id of stored) counts.set(id, (counts.get(id) ?? 0) + 1);
  const doubled = [...counts].filter(([, c]) => c > 1);
  assert.deepEqual(doubled, [], 'no message is stored twice');
  const missing = [...accepted].filter((id) => !counts.has(id));
  assert.deepEqual(missing, [], 'every message answered 202 is stored');
}

test('kill -9 under load: after restart every 202 is stored exactly once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'beacon-crash-'));
  try {
    const env = { BEACON_ADMIN_TOKEN: TOKEN };
    const first = await spawnBeacon(dir, env);
    const load = postLoop(first.url, 16);
    await new Promise((r) => setTimeout(r, 1500));
    first.child.kill('SIGKILL');
    await first.exited;
    const accepted = await load.stop();
    assert.ok(accepted.size > 100, `load produced ${accepted.size} acceptances before the kill`);

    const second = await spawnBeacon(dir, env);
    try {
      const stored = await eventually(
        async () => {
          const ids = await storedIds(second.url);
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
    const load = postLoop(first.url, 16);
    await new Promise((r) => setTimeout(r, 1000));
    first.child.kill('SIGTERM');
    const code = await first.exited;
    const accepted = await load.stop();
    assert.equal(code, 0, `exit code 0 after SIGTERM; output:\n${first.output()}`);

    // Everything accepted was projected before exit: a restart finds it all without catching up.
    const second = await spawnBeacon(dir, env);
    try {
      assertExactlyOnce(accepted, await storedIds(second.url));
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
