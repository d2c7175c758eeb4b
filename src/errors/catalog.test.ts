import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { catalog, BeaconError } from './catalog.ts';

/** The error table of docs/errors.md as code → status, whatever the column padding. */
function documentedCodes(): Map<string, number> {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const rows = new Map<string, number>();
  for (const line of doc.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const code = /^`([A-Z0-9_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (code) rows.set(code, Number(cells[2]));
  }
  return rows;
}

test('every catalog code is documented in docs/errors.md with its status', () => {
  const documented = documentedCodes();
  for (const [code, spec] of Object.entries(catalog)) {
    assert.ok(documented.has(code), `docs/errors.md has no row for ${code}`);
    assert.equal(documented.get(code), spec.status, `${code} row must give status ${spec.status}`);
  }
});

test('every documented code exists in the catalog', () => {
  for (const code of documentedCodes().keys())
    assert.ok(code in catalog, `${code} is documented but not in the catalog`);
});

test('BeaconError carries code, status and cause', () => {
  const cause = new Error('disk');
  const err = new BeaconError('LOG_UNAVAILABLE', undefined, { cause, retryAfter: 2 });
  assert.equal(err.status, 503);
  assert.equal(err.code, 'LOG_UNAVAILABLE');
  assert.equal(err.cause, cause);
  assert.equal(err.retryAfter, 2);
});
