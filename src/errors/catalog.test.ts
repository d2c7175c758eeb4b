import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { catalog, BeaconError } from './catalog.ts';

test('every catalog code is documented in docs/errors.md with its status', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  for (const [code, spec] of Object.entries(catalog)) {
    const row = doc.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
    assert.ok(row, `docs/errors.md has no row for ${code}`);
    assert.match(row, new RegExp(`\\| ${spec.status} \\|`), `${code} row must give status ${spec.status}`);
  }
});

test('every documented code exists in the catalog', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
  for (const code of documented)
    assert.ok(code && code in catalog, `${code} is documented but not in the catalog`);
});

test('BeaconError carries code, status and cause', () => {
  const cause = new Error('disk');
  const err = new BeaconError('LOG_UNAVAILABLE', undefined, { cause, retryAfter: 2 });
  assert.equal(err.status, 503);
  assert.equal(err.code, 'LOG_UNAVAILABLE');
  assert.equal(err.cause, cause);
  assert.equal(err.retryAfter, 2);
});
