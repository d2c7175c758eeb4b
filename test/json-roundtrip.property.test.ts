// Everything accepted can be read back: generated JSON (deep, wide, unicode, big and tiny numbers)
// goes through accept → log → store → list, and through the live stream, on SQLite and on PostgreSQL.
// A value Beacon cannot carry faithfully is refused with its own code; any value it accepts reads back
// the same on every path.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import WebSocket from 'ws';
import { freshDatabase } from './helpers/postgres.ts';
import { ADMIN_TOKEN, eventually, startTestBeacon, type TestBeacon } from './helpers/server.ts';

/** Codes a refused value may get; anything else (a 5xx, a 202 that reads back changed) fails. */
const REFUSALS = new Set(['JSON_TOO_DEEP', 'NUMBER_NOT_FINITE', 'INVALID_UNICODE', 'MESSAGE_TOO_LARGE']);

/** The text a client sends: an object of generated JSON values, sometimes with number literals no double holds exactly. */
const documents = fc
  .tuple(
    fc.dictionary(
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.jsonValue({ maxDepth: 12, depthSize: 'medium', stringUnit: 'binary' }),
      { maxKeys: 8 },
    ),
    fc.constantFrom(
      '',
      ',"big":123456789012345678901234567890',
      ',"tiny":1e-320',
      ',"deep":' + '['.repeat(140) + ']'.repeat(140),
    ),
  )
  .map(([value, extra]) => {
    const text = JSON.stringify(value);
    return text === '{}' ? `{"empty":true${extra}}` : `${text.slice(0, -1)}${extra}}`;
  });

/** Same value: compared as JSON text after parsing both, so -0/0 and number spellings do not matter. */
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function roundTrips(name: string, start: () => Promise<TestBeacon>): void {
  describe(`accepted JSON reads back the same: ${name}`, () => {
    let beacon: TestBeacon;
    let socket: WebSocket;
    const streamed = new Map<string, unknown>();
    before(async () => {
      beacon = await start();
      socket = new WebSocket(`${beacon.url.replace('http', 'ws')}/v1/stream?streams=messages`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      socket.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString()) as { type: string; id?: string; body?: unknown };
        if (frame.type === 'record') streamed.set(frame.id!, frame.body);
      });
      await new Promise((resolve) => socket.once('open', resolve));
    });
    after(async () => {
      socket?.close();
      await beacon?.destroy();
    });

    test('through POST /v1/messages and /v1/messages/batch (JSON array and NDJSON)', async () => {
      const accepted = new Map<string, unknown>();
      let refused = 0;
      await fc.assert(
        fc.asyncProperty(documents, fc.constantFrom('single', 'array', 'ndjson'), async (text, route) => {
          const body = route === 'single' ? text : route === 'array' ? `[${text}]` : `${text}\n`;
          const response = await fetch(`${beacon.url}/v1/messages${route === 'single' ? '' : '/batch'}`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${ADMIN_TOKEN}`,
              'content-type': route === 'ndjson' ? 'application/x-ndjson' : 'application/json',
            },
            body,
          });
          const answer = (await response.json()) as {
            id?: string;
            items?: { id: string }[];
            error?: { code: string };
          };
          if (response.status !== 202) {
            assert.equal(response.status, 400, JSON.stringify(answer));
            assert.ok(REFUSALS.has(answer.error!.code), answer.error!.code);
            refused += 1;
            return;
          }
          accepted.set(answer.id ?? answer.items![0]!.id, JSON.parse(text));
        }),
        { numRuns: 60, seed: 20261203 },
      );
      assert.ok(accepted.size > 0 && refused > 0, `${accepted.size} accepted, ${refused} refused`);

      // The store: every accepted value, by its id, paged through the list API.
      const stored = await eventually(async () => {
        const found = new Map<string, unknown>();
        for (let after: string | null = ''; after !== null;) {
          const page = (await (
            await beacon.request(`/v1/messages?limit=50${after ? `&after=${after}` : ''}`)
          ).json()) as { items: { id: string; payload: unknown }[]; next: string | null };
          for (const m of page.items) found.set(m.id, m.payload);
          after = page.next;
        }
        return [...accepted.keys()].every((id) => found.has(id)) ? found : undefined;
      });
      for (const [id, value] of accepted) {
        assert.ok(same(stored.get(id), value), `stored ${id}: ${JSON.stringify(stored.get(id))}`);
        assert.ok(same(streamed.get(id), value), `streamed ${id}: ${JSON.stringify(streamed.get(id))}`);
      }
    });
  });
}

roundTrips('sqlite', () => startTestBeacon());
roundTrips('postgres', async () => startTestBeacon({ store: (await freshDatabase()).url }));
