import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { createToken } from '../src/tenants/tokens.ts';
import { eventually, startTestBeacon, type TestBeacon } from './helpers/server.ts';

interface ErrorJson {
  error: { code: string; message: string };
}
interface Page {
  items: { id: string; receivedAt: string; payload: Record<string, unknown> }[];
  next: string | null;
}

async function expectError(response: Response, status: number, code: string): Promise<ErrorJson> {
  const body = (await response.json()) as ErrorJson;
  assert.equal(
    response.status,
    status,
    `expected ${status} ${code}, got ${response.status} ${JSON.stringify(body)}`,
  );
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
  return body;
}

/** Follows `next` to the end and returns every item. */
async function listAll(beacon: TestBeacon, query = '', token?: string): Promise<Page['items']> {
  const items: Page['items'] = [];
  let cursor: string | null = null;
  do {
    const after: string = cursor ? `&after=${cursor}` : '';
    const res = await beacon.request(`/v1/messages?limit=1000${query}${after}`, token ? { token } : {});
    assert.equal(res.status, 200);
    const page = (await res.json()) as Page;
    items.push(...page.items);
    cursor = page.next;
  } while (cursor);
  return items;
}

async function waitForCount(beacon: TestBeacon, n: number, token?: string): Promise<Page['items']> {
  return eventually(
    async () => {
      const items = await listAll(beacon, '', token);
      return items.length >= n ? items : undefined;
    },
    20_000,
    `${n} stored messages`,
  );
}

describe('messages API', () => {
  let beacon: TestBeacon;
  before(async () => {
    beacon = await startTestBeacon();
  });
  after(() => beacon.destroy());

  test('a posted message is answered 202 with id and receivedAt, then listed', async () => {
    const res = await beacon.request('/v1/messages', { method: 'POST', json: { hello: 'world', n: 1 } });
    assert.equal(res.status, 202);
    const body = (await res.json()) as { id: string; receivedAt: string };
    assert.match(body.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    assert.match(body.receivedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const items = await waitForCount(beacon, 1);
    const found = items.find((m) => m.id === body.id);
    assert.deepEqual(found, { id: body.id, receivedAt: body.receivedAt, payload: { hello: 'world', n: 1 } });
  });

  test('an Idempotency-Key retry returns the first answer and stores nothing new', async () => {
    const post = (payload: object) =>
      beacon.request('/v1/messages', {
        method: 'POST',
        json: payload,
        headers: { 'idempotency-key': 'order-42' },
      });
    const first = await post({ attempt: 1 });
    const firstBody = (await first.json()) as unknown;
    const retry = await post({ attempt: 2 });
    assert.equal(retry.status, 202);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(await retry.json(), firstBody);
    const items = await waitForCount(beacon, 2);
    const stored = items.filter((m) => m.id === (firstBody as { id: string }).id);
    assert.equal(stored.length, 1);
    assert.deepEqual(stored[0]!.payload, { attempt: 1 });
  });

  test('a batch as JSON array or NDJSON is answered with ids in order, and a retried batch stores nothing new', async () => {
    const before = (await listAll(beacon)).length;
    const array = await beacon.request('/v1/messages/batch', {
      method: 'POST',
      json: [{ i: 0 }, { i: 1 }, { i: 2 }],
    });
    assert.equal(array.status, 202);
    assert.match(array.headers.get('content-type') ?? '', /^application\/json/);
    const arrayBody = (await array.json()) as {
      accepted: number;
      items: { id: string; receivedAt: string }[];
    };
    assert.equal(arrayBody.accepted, 3);
    // The batch answer is written by hand, not by the schema's serializer: hold it to the schema's shape.
    assert.deepEqual(Object.keys(arrayBody), ['accepted', 'duplicates', 'items']);
    for (const item of arrayBody.items) {
      assert.deepEqual(Object.keys(item), ['id', 'receivedAt']);
      assert.match(item.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.match(item.receivedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    const ndjson = await beacon.request('/v1/messages/batch', {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', 'idempotency-key': 'batch-7' },
      body: '{"i":3}\n\n{"i":4}\n',
    });
    assert.equal(ndjson.status, 202);
    const ndBody = (await ndjson.json()) as { items: { id: string }[] };
    const again = await beacon.request('/v1/messages/batch', {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', 'idempotency-key': 'batch-7' },
      body: '{"i":3}\n{"i":4}\n',
    });
    const againBody = (await again.json()) as {
      accepted: number;
      duplicates: number;
      items: { id: string }[];
    };
    assert.equal(againBody.accepted, 0);
    assert.equal(againBody.duplicates, 2);
    assert.deepEqual(againBody.items, ndBody.items);
    const items = await waitForCount(beacon, before + 5);
    assert.equal(items.length, before + 5);
    const byId = new Map(items.map((m) => [m.id, m.payload]));
    assert.deepEqual(
      [...arrayBody.items, ...ndBody.items].map((a) => byId.get(a.id)),
      [{ i: 0 }, { i: 1 }, { i: 2 }, { i: 3 }, { i: 4 }],
    );
    // A retry that grew by one: two answers from the first acceptance and one new, at another time.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const grown = await beacon.request('/v1/messages/batch', {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', 'idempotency-key': 'batch-7' },
      body: '{"i":3}\n{"i":4}\n{"i":5}\n',
    });
    const grownBody = (await grown.json()) as typeof againBody & { items: { receivedAt: string }[] };
    assert.equal(grownBody.accepted, 1);
    assert.equal(grownBody.duplicates, 2);
    assert.deepEqual(grownBody.items.slice(0, 2), ndBody.items);
    assert.notEqual(grownBody.items[2]!.receivedAt, grownBody.items[0]!.receivedAt);
    // Stored before the next test counts what is there.
    assert.equal((await waitForCount(beacon, before + 6)).length, before + 6);
  });

  test('bad input gets a coded error and nothing accepted is lost', async () => {
    const before = (await listAll(beacon)).length;
    const post = (init: RequestInit & { token?: string | null; json?: unknown }, path = '/v1/messages') =>
      beacon.request(path, { method: 'POST', ...init });
    await expectError(
      await post({ body: '{"a":', headers: { 'content-type': 'application/json' } }),
      400,
      'BAD_JSON',
    );
    await expectError(
      await post({ body: '', headers: { 'content-type': 'application/json' } }),
      400,
      'BAD_JSON',
    );
    await expectError(await post({ json: [1, 2] }), 400, 'NOT_AN_OBJECT');
    await expectError(await post({ json: 'text' }), 400, 'NOT_AN_OBJECT');
    await expectError(await post({ json: null }), 400, 'NOT_AN_OBJECT');
    await expectError(
      await post({ body: 'a=1', headers: { 'content-type': 'text/plain' } }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    await expectError(await post({ body: '{}' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    await expectError(await post({ json: { big: 'x'.repeat(70_000) } }), 413, 'BODY_TOO_LARGE');
    await expectError(
      await post({ json: {}, headers: { 'idempotency-key': 'has space' } }),
      400,
      'IDEMPOTENCY_KEY_INVALID',
    );
    await expectError(await post({ json: [] }, '/v1/messages/batch'), 400, 'BATCH_EMPTY');
    await expectError(await post({ json: { not: 'array' } }, '/v1/messages/batch'), 400, 'VALIDATION_FAILED');
    await expectError(
      await post({ json: Array.from({ length: 1001 }, () => ({})) }, '/v1/messages/batch'),
      413,
      'BATCH_TOO_LARGE',
    );
    await expectError(await post({ json: [{ ok: 1 }, 7] }, '/v1/messages/batch'), 400, 'NOT_AN_OBJECT');
    await expectError(
      await post({ json: [{ ok: 1 }, { big: 'x'.repeat(70_000) }] }, '/v1/messages/batch'),
      413,
      'MESSAGE_TOO_LARGE',
    );
    await expectError(
      await post(
        { body: '{"ok":1}\n{"bad":\n', headers: { 'content-type': 'application/x-ndjson' } },
        '/v1/messages/batch',
      ),
      400,
      'BAD_JSON',
    );
    await expectError(await beacon.request('/v1/messages?limit=0'), 400, 'VALIDATION_FAILED');
    await expectError(await beacon.request('/v1/messages?after=not-a-cursor'), 400, 'BAD_CURSOR');
    await expectError(await beacon.request('/v1/messages?from=yesterday'), 400, 'VALIDATION_FAILED');
    await expectError(await beacon.request('/v1/nothing-here'), 404, 'ROUTE_NOT_FOUND');
    // A rejected batch stores none of its items, and earlier messages are all still there.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await listAll(beacon)).length, before);
  });

  test('tokens: missing, wrong, revoked and under-scoped tokens are refused', async () => {
    await expectError(
      await beacon.request('/v1/messages', { method: 'POST', json: {}, token: null }),
      401,
      'TOKEN_MISSING',
    );
    await expectError(await beacon.request('/v1/messages', { token: 'bcn_wrong' }), 401, 'TOKEN_INVALID');
    await expectError(
      await beacon.request('/v1/messages', { headers: { authorization: 'Basic abc' }, token: null }),
      401,
      'TOKEN_INVALID',
    );
    const ingestOnly = await createToken(beacon.store.tenants, {
      tenant: 'default',
      name: 'i',
      scopes: ['ingest'],
    });
    const readOnly = await createToken(beacon.store.tenants, {
      tenant: 'default',
      name: 'r',
      scopes: ['read'],
    });
    await expectError(
      await beacon.request('/v1/messages', { token: ingestOnly.secret }),
      403,
      'SCOPE_DENIED',
    );
    await expectError(
      await beacon.request('/v1/messages', { method: 'POST', json: {}, token: readOnly.secret }),
      403,
      'SCOPE_DENIED',
    );
    assert.equal(
      (await beacon.request('/v1/messages', { method: 'POST', json: {}, token: ingestOnly.secret })).status,
      202,
    );
    await beacon.store.tenants.revokeToken('default', readOnly.token.id, Date.now());
    await new Promise((r) => setTimeout(r, 5100)); // the authenticator caches answers for 5 s
    await expectError(await beacon.request('/v1/messages', { token: readOnly.secret }), 401, 'TOKEN_INVALID');
  });

  test('tenants never see each other’s messages', async () => {
    await beacon.store.tenants.ensure({ id: 'acme', name: 'Acme', createdAt: Date.now() });
    const acme = await createToken(beacon.store.tenants, {
      tenant: 'acme',
      name: 'a',
      scopes: ['ingest', 'read'],
    });
    const res = await beacon.request('/v1/messages', {
      method: 'POST',
      json: { secret: 'acme-only' },
      token: acme.secret,
      headers: { 'idempotency-key': 'order-42' },
    });
    assert.equal(res.status, 202);
    assert.equal(
      res.headers.get('idempotent-replayed'),
      null,
      'the same key in another tenant is a new message',
    );
    const acmeItems = await waitForCount(beacon, 1, acme.secret);
    assert.deepEqual(
      acmeItems.map((m) => m.payload),
      [{ secret: 'acme-only' }],
    );
    const defaultItems = await listAll(beacon);
    assert.ok(defaultItems.every((m) => m.payload.secret !== 'acme-only'));
  });

  test('operations endpoints answer', async () => {
    assert.deepEqual(await (await beacon.request('/healthz', { token: null })).json(), { status: 'ok' });
    const ready = await beacon.request('/readyz', { token: null });
    assert.equal(ready.status, 200);
    const metrics = await (await beacon.request('/metrics', { token: null })).text();
    for (const name of [
      'beacon_ingest_accepted_total',
      'beacon_http_rejected_total',
      'beacon_log_commit_batch_records_bucket',
      'beacon_log_commit_seconds_bucket',
      'beacon_live_subscribers',
      'beacon_live_dropped_frames_total',
      'beacon_sink_batch_records_bucket',
      'beacon_live_fanout_seconds_bucket',
    ]) {
      assert.ok(metrics.includes(name), `metrics lack ${name}`);
    }
    assert.match(metrics, /beacon_http_rejected_total\{code="BAD_JSON"\} [1-9]/);
    // The sinks run in their own thread; their figures reach /metrics, and process figures once.
    assert.match(metrics, /beacon_sink_records_total\{stream="messages",outcome="new"\} [1-9]/);
    assert.equal(metrics.match(/^# TYPE beacon_process_cpu_seconds_total /gm)?.length, 1);
    assert.match(metrics, /^beacon_process_resident_memory_bytes [1-9]/m);
    const openapi = (await (await beacon.request('/openapi.json', { token: null })).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    assert.equal(openapi.openapi, '3.1.0');
    assert.ok(openapi.paths['/v1/messages']?.post && openapi.paths['/v1/messages']?.get);
    assert.ok(openapi.paths['/v1/messages/batch']?.post);
    assert.ok(openapi.paths['/v1/stream']?.get);
    const docs = await beacon.request('/docs/', { token: null });
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger/i);
  });
});

describe('pagination', () => {
  let beacon: TestBeacon;
  before(async () => {
    beacon = await startTestBeacon();
  });
  after(() => beacon.destroy());

  test('10,000 messages page with no gaps or repeats, in (receivedAt, id) order', async () => {
    const ids: string[] = [];
    for (let b = 0; b < 10; b++) {
      const res = await beacon.request('/v1/messages/batch', {
        method: 'POST',
        json: Array.from({ length: 1000 }, (_, i) => ({ n: b * 1000 + i })),
      });
      assert.equal(res.status, 202);
      ids.push(...((await res.json()) as { items: { id: string }[] }).items.map((i) => i.id));
    }
    await waitForCount(beacon, 10_000);
    const seen: Page['items'] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const after: string = cursor ? `&after=${cursor}` : '';
      const page = (await (await beacon.request(`/v1/messages?limit=333${after}`)).json()) as Page;
      seen.push(...page.items);
      cursor = page.next;
      pages += 1;
    } while (cursor);
    assert.equal(pages, Math.ceil(10_000 / 333));
    assert.equal(seen.length, 10_000);
    assert.equal(new Set(seen.map((m) => m.id)).size, 10_000);
    assert.deepEqual(new Set(seen.map((m) => m.id)), new Set(ids));
    for (let i = 1; i < seen.length; i++) {
      const a = seen[i - 1]!;
      const b = seen[i]!;
      assert.ok(
        a.receivedAt < b.receivedAt || (a.receivedAt === b.receivedAt && a.id < b.id),
        `order breaks at ${i}`,
      );
    }
  });

  test('from and to filter by receivedAt', async () => {
    const all = await listAll(beacon);
    const middle = all[5000]!.receivedAt;
    const early = await listAll(beacon, `&to=${encodeURIComponent(middle)}`);
    const late = await listAll(beacon, `&from=${encodeURIComponent(middle)}`);
    assert.equal(early.length + late.length, all.length);
    assert.ok(early.every((m) => m.receivedAt < middle));
    assert.ok(late.every((m) => m.receivedAt >= middle));
  });
});

describe('limits', () => {
  test('a token over its rate gets 429 with Retry-After', async () => {
    const beacon = await startTestBeacon({ 'rateLimit.perSecond': 1, 'rateLimit.burst': 3 });
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 5; i++) {
        const res = await beacon.request('/v1/messages', { method: 'POST', json: { i } });
        statuses.push(res.status);
        if (res.status === 429) {
          retryAfter = res.headers.get('retry-after');
          await expectError(res, 429, 'RATE_LIMITED');
        }
      }
      assert.deepEqual(statuses.slice(0, 3), [202, 202, 202]);
      assert.ok(statuses.slice(3).every((s) => s === 429));
      assert.ok(Number(retryAfter) >= 1);
      // Each token has its own bucket: another token still reads freely.
      const reader = await createToken(beacon.store.tenants, {
        tenant: 'default',
        name: 'r',
        scopes: ['read'],
      });
      // Wait on the store, not the API: polling would spend the reader's own small bucket.
      await eventually(
        async () => ((await beacon.store.messages.count('default')) >= 3 ? true : undefined),
        20_000,
        '3 stored messages',
      );
      assert.equal((await listAll(beacon, '', reader.secret)).length, 3);
    } finally {
      await beacon.destroy();
    }
  });

  test('a full commit queue answers 503 LOG_BUSY with Retry-After, and keeps what it accepted', async () => {
    const beacon = await startTestBeacon({ 'ingest.queueMax': 5 });
    try {
      const ok = await beacon.request('/v1/messages/batch', { method: 'POST', json: [{ a: 1 }, { a: 2 }] });
      assert.equal(ok.status, 202);
      const busy = await beacon.request('/v1/messages/batch', {
        method: 'POST',
        json: Array.from({ length: 10 }, (_, i) => ({ i })),
      });
      assert.equal(busy.headers.get('retry-after'), '1');
      await expectError(busy, 503, 'LOG_BUSY');
      const items = await waitForCount(beacon, 2);
      assert.equal(items.length, 2);
    } finally {
      await beacon.destroy();
    }
  });

  test('a client that sends its body too slowly is cut off without disturbing others', async () => {
    const beacon = await startTestBeacon({ 'http.requestTimeoutMs': 500 });
    try {
      const socket = connect(beacon.port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      socket.write(
        `POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-admin-token-0123456789abcdef\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"slow":`,
      );
      const answered = new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (d) => (text += d.toString()));
        socket.on('close', () => resolve(text));
      });
      const meanwhile = await beacon.request('/v1/messages', { method: 'POST', json: { fast: true } });
      assert.equal(meanwhile.status, 202);
      const response = await answered;
      assert.match(response, /^HTTP\/1\.1 408/);
      const items = await waitForCount(beacon, 1);
      assert.deepEqual(
        items.map((m) => m.payload),
        [{ fast: true }],
      );
    } finally {
      await beacon.destroy();
    }
  });
});
