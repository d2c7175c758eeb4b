// Load and exactly-once checks shared by the crash and outage tests.
import assert from 'node:assert/strict';

/**
 * Posts messages from `clients` concurrent loops until stopped; returns every id answered 202.
 * Errors (the server dying mid-request) are expected and not counted as accepted.
 */
export function postLoop(url: string, clients: number, token: string): { stop: () => Promise<Set<string>> } {
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
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
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

export async function storedIds(url: string, token: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await fetch(`${url}/v1/messages?limit=1000${cursor ? `&after=${cursor}` : ''}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const page = (await res.json()) as { items: { id: string }[]; next: string | null };
    ids.push(...page.items.map((i) => i.id));
    cursor = page.next;
  } while (cursor);
  return ids;
}

export function assertExactlyOnce(accepted: Set<string>, stored: string[]): void {
  const counts = new Map<string, number>();
  for (const id of stored) counts.set(id, (counts.get(id) ?? 0) + 1);
  const doubled = [...counts].filter(([, c]) => c > 1);
  assert.deepEqual(doubled, [], 'no message is stored twice');
  const missing = [...accepted].filter((id) => !counts.has(id));
  assert.deepEqual(missing, [], 'every message answered 202 is stored');
}
