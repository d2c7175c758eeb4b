// A hostile client gets a clear error with a stable code, alone: nothing accepted beside it is lost,
// no other client is refused, nothing is stored changed, and no answer falls outside the catalog.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ADMIN_TOKEN, eventually, startTestBeacon, type TestBeacon } from './helpers/server.ts';

let beacon: TestBeacon;
before(async () => {
  beacon = await startTestBeacon({ 'http.requestTimeoutMs': 1000 });
});
after(async () => {
  await beacon?.destroy();
});

const nested = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);

async function send(
  path: string,
  body: string | Uint8Array<ArrayBuffer>,
  type = 'application/json',
  method = 'POST',
) {
  const response = await fetch(beacon.url + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': type },
    body,
  });
  const text = await response.text();
  return {
    status: response.status,
    code: (JSON.parse(text) as { error?: { code: string } }).error?.code,
    text,
  };
}

describe('one bad record fails alone', () => {
  test('a JSON value nested 5,000 deep is refused with JSON_TOO_DEEP while 16 clients post beside it', async () => {
    let stop = false;
    const outcomes: number[] = [];
    const clients = Array.from({ length: 16 }, async (_, i) => {
      for (let n = 0; !stop; n++) {
        const r = await send('/v1/messages', JSON.stringify({ client: i, n }));
        outcomes.push(r.status);
      }
    });
    const refused: string[] = [];
    for (let i = 0; i < 20; i++) {
      refused.push((await send('/v1/messages', nested(5_000))).code!);
      refused.push((await send('/v1/messages/batch', `[{"ok":1},${nested(5_000)}]`)).code!);
      refused.push(
        (await send('/v1/messages/batch', `{"ok":1}\n${nested(200)}\n`, 'application/x-ndjson')).code!,
      );
    }
    stop = true;
    await Promise.all(clients);
    assert.deepEqual([...new Set(refused)], ['JSON_TOO_DEEP']);
    assert.ok(outcomes.length > 0);
    assert.deepEqual(
      [...new Set(outcomes)],
      [202],
      'no ordinary client was refused because of the deep one beside it',
    );
    // The configured limit is what counts: 128 levels are fine, and so is the batch around them.
    assert.equal((await send('/v1/messages', nested(128))).status, 202);
    assert.equal((await send('/v1/messages/batch', `[${nested(128)}]`)).status, 202);
  });

  test('numbers a double cannot hold, invalid UTF-8 and half surrogate pairs are refused, never changed', async () => {
    assert.equal((await send('/v1/messages', '{"n":1e999999}')).code, 'NUMBER_NOT_FINITE');
    assert.equal((await send('/v1/messages/batch', '[{"n":-1e400}]')).code, 'NUMBER_NOT_FINITE');
    const badUtf8 = new Uint8Array(
      Buffer.concat([Buffer.from('{"s":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
    );
    assert.equal((await send('/v1/messages', badUtf8)).code, 'INVALID_UTF8');
    assert.equal((await send('/v1/messages/batch', badUtf8, 'application/x-ndjson')).code, 'INVALID_UTF8');
    assert.equal((await send('/v1/messages', '{"s":"\\ud800"}')).code, 'INVALID_UNICODE');
  });

  test('a target whose name nests 100,000 deep is a 400, not a crash', async () => {
    const name = '['.repeat(100_000) + ']'.repeat(100_000);
    const r = await send('/v1/targets', `{"id":"deep","url":"https://example.com/","name":${name}}`);
    assert.equal(r.code, 'JSON_TOO_DEEP');
    assert.equal((await fetch(beacon.url + '/healthz')).status, 200);
  });
});

describe('no silent coercion', () => {
  test('a number or boolean where a string belongs is a 400, never another value', async () => {
    assert.equal((await send('/v1/sensors', '{"id":"s1","name":"Door"}')).status, 201);
    for (const [path, body] of [
      ['/v1/sensors', '{"id":"s2","name":false}'],
      ['/v1/sensors', '{"id":123456789012345678901234567890,"name":"x"}'],
      ['/v1/spaces', '{"id":"lobby","name":"Lobby","parent":false}'],
      ['/v1/spaces', '{"id":"lobby","name":false}'],
      ['/v1/sensor-events', '[{"sensor":"s1","direction":1,"id":123456789012345678901234567890}]'],
      ['/v1/sensor-events', '[{"sensor":"s1","direction":1,"id":true}]'],
      ['/v1/sensor-events', '[{"sensor":"s1","direction":"1"}]'],
    ] as const) {
      const r = await send(path, body);
      assert.equal(r.status, 400, `${path} ${body}: ${r.text}`);
      assert.equal(r.code, 'VALIDATION_FAILED');
    }
  });

  test('query strings parse strictly: limit=1e400 or 10abc is a 400 on every list', async () => {
    for (const path of [
      '/v1/messages',
      '/v1/targets',
      '/v1/spaces',
      '/v1/sensors',
      '/v1/doorways',
      '/v1/tenants',
    ]) {
      for (const limit of ['1e400', '-1e400', '10abc', '0', '1.5']) {
        const response = await fetch(`${beacon.url}${path}?limit=${limit}`, {
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        });
        assert.equal(response.status, 400, `${path}?limit=${limit}`);
        assert.equal(
          ((await response.json()) as { error: { code: string } }).error.code,
          'VALIDATION_FAILED',
        );
      }
    }
  });
});

describe('every answer from the catalog', () => {
  test('a wrong method on a known path is 405 with Allow, QUERY without a body type too', async () => {
    for (const method of ['PUT', 'TRACE', 'PATCH', 'QUERY']) {
      // fetch refuses TRACE itself; node:http sends any method.
      const response = await new Promise<{ status: number; allow: string | undefined; body: string }>(
        (resolve, reject) => {
          const req = request(`${beacon.url}/v1/messages`, { method }, (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode!, allow: res.headers.allow, body }));
          });
          req.on('error', reject);
          req.end();
        },
      );
      assert.equal(response.status, 405, method);
      assert.equal(response.allow, 'GET, HEAD, POST');
      assert.equal(
        (JSON.parse(response.body) as { error: { code: string } }).error.code,
        'METHOD_NOT_ALLOWED',
      );
    }
    const noType = await fetch(beacon.url + '/v1/messages', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: '{}',
    });
    assert.equal(noType.status, 415, 'a route that exists for the method still asks for its content type');
    assert.equal(((await noType.json()) as { error: { code: string } }).error.code, 'UNSUPPORTED_MEDIA_TYPE');
    const unknown = await fetch(beacon.url + '/v1/nothing-here', { method: 'DELETE' });
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'ROUTE_NOT_FOUND');
  });

  test('a body that arrives too slowly is answered 408 in the catalog shape', async () => {
    const { port } = new URL(beacon.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          `POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n` +
            'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"slow":',
        );
      });
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    assert.match(answer, /^HTTP\/1\.1 408 /);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: { code: string } };
    assert.equal(body.error.code, 'REQUEST_TIMEOUT');
    // Nothing of the slow request was stored, and the server answers everyone else.
    await eventually(async () => ((await fetch(beacon.url + '/healthz')).ok ? true : undefined));
  });
});

describe('every request’s work is bounded by what it returns', () => {
  test('a page of large messages ends at the page byte budget, and paging still reaches every one', async () => {
    const small = await startTestBeacon({ 'http.pageBytes': 65536 });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const r = await small.request('/v1/messages', {
          method: 'POST',
          json: { i, pad: 'x'.repeat(60_000) },
        });
        ids.push(((await r.json()) as { id: string }).id);
      }
      const pages = await eventually(async () => {
        const seen: string[][] = [];
        for (let after: string | null = ''; after !== null;) {
          const page = (await (
            await small.request(`/v1/messages?limit=1000${after ? `&after=${after}` : ''}`)
          ).json()) as { items: { id: string }[]; next: string | null };
          seen.push(page.items.map((m) => m.id));
          after = page.next;
        }
        return seen.flat().length === ids.length ? seen : undefined;
      });
      assert.deepEqual(
        pages.map((p) => p.length),
        [2, 2, 2],
        'each page stops once it holds 64 KiB of payload',
      );
      assert.deepEqual(pages.flat(), ids);
    } finally {
      await small.destroy();
    }
  });
});
