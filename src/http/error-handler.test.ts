import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorCodes } from 'fastify';
import { catalog } from '../errors/catalog.ts';
import { toBeaconError } from './error-handler.ts';

test('every error fastify can answer a client with maps to a catalog code of the same status', () => {
  let clientErrors = 0;
  for (const [code, FastifyError] of Object.entries(errorCodes)) {
    const err = new (FastifyError as new (...args: string[]) => Error & { statusCode?: number })(
      'a',
      'b',
      'c',
    );
    const status = err.statusCode ?? 500;
    const mapped = toBeaconError(err);
    assert.ok(mapped.code in catalog, code);
    if (status >= 500) continue;
    clientErrors += 1;
    assert.notEqual(mapped.code, 'INTERNAL', `${code} (${status}) must not answer 500`);
    // A client error stays a client error; the catalog may be more precise about which.
    assert.ok(mapped.status >= 400 && mapped.status < 500, `${code}: ${status} became ${mapped.status}`);
  }
  assert.ok(clientErrors >= 10, `fastify lists ${clientErrors} client errors`);
});

test('a plugin error with a client status keeps a catalog code; anything else is INTERNAL', () => {
  const range = Object.assign(new Error('Range Not Satisfiable'), { status: 416 });
  assert.equal(toBeaconError(range).code, 'RANGE_NOT_SATISFIABLE');
  assert.equal(toBeaconError(new TypeError('boom')).code, 'INTERNAL');
});
