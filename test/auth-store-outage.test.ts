// Ingest goes into the log, not the store, so a client whose token was good a moment ago is not
// turned away while the store cannot be asked: the authenticator's cached answer stands in for up to
// ten minutes past its expiry. Here the store is a real SQLite store, closed to make it fail.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sqliteStore } from '../src/roles/store-sqlite.ts';
import { Authenticator, createToken } from '../src/tenants/tokens.ts';

test('a cached token answer stands in while the store fails, until ten minutes past its expiry', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'beacon-auth-outage-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  t.mock.timers.enable({ apis: ['Date'], now: Date.parse('2026-12-04T00:00:00Z') });
  const store = sqliteStore({ dataDir });
  await store.open();
  await store.tenants.ensure({ id: 'acme', name: 'Acme', createdAt: Date.now() });
  const { secret } = await createToken(store.tenants, { tenant: 'acme', name: 'ingest', scopes: ['ingest'] });
  const auth = new Authenticator(store.tenants);

  const known = await auth.authenticate(secret);
  assert.equal(known?.tenant, 'acme');
  assert.equal(await auth.tenantDisabled('acme'), false);
  // A token never asked about before has nothing to stand in for it.
  const stranger = 'bcn_' + 'x'.repeat(32);
  assert.equal(await auth.authenticate(stranger), null);

  await store.close();
  t.mock.timers.tick(60_000); // the cached answers have expired; the store cannot answer
  assert.deepEqual(await auth.authenticate(secret), known);
  assert.equal(await auth.tenantDisabled('acme'), false);
  assert.equal(await auth.authenticate(stranger), null, 'a refusal stands in too');
  await assert.rejects(auth.authenticate('bcn_' + 'y'.repeat(32)), 'an unknown token is not guessed at');

  t.mock.timers.tick(10 * 60_000); // now past the ten minutes
  await assert.rejects(auth.authenticate(secret));
  await assert.rejects(auth.tenantDisabled('acme'));
});
