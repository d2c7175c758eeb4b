import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message, MessagePage, MessageQuery } from './api.ts';
import { fetchNewest, type MessageLister } from './history.ts';

/** The list API over an in-memory set: [from, to), keyset-paged, oldest first. */
function fakeApi(times: readonly number[]): MessageLister & { calls: number } {
  const all: Message[] = times
    .map((t, i) => ({ id: `${String(t).padStart(15, '0')}-${String(i).padStart(6, '0')}`, t }))
    .sort((a, b) => a.t - b.t || (a.id < b.id ? -1 : 1))
    .map(({ id, t }) => ({ id, receivedAt: new Date(t).toISOString(), payload: {} }));
  const api = {
    calls: 0,
    listMessages(query: MessageQuery): Promise<MessagePage> {
      api.calls += 1;
      const from = query.from === undefined ? -Infinity : Date.parse(query.from);
      const to = query.to === undefined ? Infinity : Date.parse(query.to);
      const after = query.after;
      const rows = all.filter((m) => {
        const t = Date.parse(m.receivedAt);
        return t >= from && t < to && (after === undefined || m.id > after);
      });
      const limit = query.limit ?? 100;
      const items = rows.slice(0, limit);
      return Promise.resolve({ items, next: rows.length > limit ? (items.at(-1)?.id ?? null) : null });
    },
  };
  return api;
}

const signal = new AbortController().signal;
const NOW = Date.parse('2026-11-23T12:00:00.000Z');

test('finds the newest messages of a dense range without reading all of it', async () => {
  // 20,000 messages over the last 10 minutes: reading from the start would take 20 pages.
  const times = Array.from({ length: 20_000 }, (_, i) => NOW - 600_000 + i * 30);
  const api = fakeApi(times);
  const result = await fetchNewest(
    api,
    { from: NOW - 900_000, to: NOW + 1, want: 200, span: 900_000 },
    signal,
  );
  const got = result.messages.map((m) => Date.parse(m.receivedAt));
  assert.ok(got.length >= 200);
  // Exactly the messages in [reached, to): the newest ones, with no gaps.
  assert.deepEqual(
    got.sort((a, b) => a - b),
    times.filter((t) => t >= result.reached),
  );
  assert.ok(api.calls <= 8, `${api.calls} requests`);
});

test('searches a sparse range back to `from` and says it got there', async () => {
  const times = [NOW - 3_600_000, NOW - 86_400_000, NOW - 5 * 86_400_000];
  const api = fakeApi(times);
  const result = await fetchNewest(
    api,
    { from: NOW - 7 * 86_400_000, to: NOW, want: 200, span: 300_000 },
    signal,
  );
  assert.equal(result.messages.length, 3);
  assert.equal(result.reached, NOW - 7 * 86_400_000);
  assert.ok(api.calls <= 16, `${api.calls} requests`);
});

test('nothing outside [from, to) is returned', async () => {
  const times = [NOW - 2000, NOW - 1000, NOW, NOW + 1000];
  const result = await fetchNewest(
    fakeApi(times),
    { from: NOW - 1000, to: NOW, want: 10, span: 60_000 },
    signal,
  );
  assert.deepEqual(
    result.messages.map((m) => m.receivedAt),
    [new Date(NOW - 1000).toISOString()],
  );
});

test('a burst inside one millisecond is paged through whole', async () => {
  const times = Array.from({ length: 2500 }, () => NOW - 10);
  const result = await fetchNewest(
    fakeApi(times),
    { from: NOW - 60_000, to: NOW, want: 100, span: 60_000 },
    signal,
  );
  assert.equal(new Set(result.messages.map((m) => m.id)).size, 2500);
});
