// Operators create tenants (with a first admin token), list, disable and enable them, through the API
// with an `operator` token and through `beacon tenant`. A tenant's own admin cannot, and a disabled
// tenant's tokens are refused.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CHROME_UA, createSite } from './helpers/analytics.ts';
import { startTestBeacon } from './helpers/server.ts';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const run = promisify(execFile);

interface TenantJson {
  id: string;
  name: string;
  createdAt: string;
  disabledAt: string | null;
}

test('an operator creates a tenant whose admin works in it alone; disabling it refuses its tokens', async () => {
  const beacon = await startTestBeacon();
  try {
    const created = await beacon.request('/v1/tenants', {
      method: 'POST',
      json: { id: 'acme', name: 'Acme' },
    });
    assert.equal(created.status, 201);
    const { tenant, adminToken } = (await created.json()) as { tenant: TenantJson; adminToken: string };
    assert.deepEqual([tenant.id, tenant.name, tenant.disabledAt], ['acme', 'Acme', null]);
    assert.match(adminToken, /^bcn_/);

    // The same id again is a conflict; a bad id is refused by the schema.
    assert.equal(
      (await beacon.request('/v1/tenants', { method: 'POST', json: { id: 'acme', name: 'x' } })).status,
      409,
    );
    for (const id of ['Acme', '-acme', 'a'.repeat(64), 'ac me', '']) {
      const bad = await beacon.request('/v1/tenants', { method: 'POST', json: { id, name: 'x' } });
      assert.equal(bad.status, 400, id);
    }

    // The new admin ingests and reads in its own tenant, and is no operator.
    const post = await beacon.request('/v1/messages', {
      method: 'POST',
      token: adminToken,
      json: { from: 'acme' },
    });
    assert.equal(post.status, 202);
    const tenants = await beacon.request('/v1/tenants', { token: adminToken });
    assert.equal(tenants.status, 403);
    assert.equal(((await tenants.json()) as { error: { code: string } }).error.code, 'SCOPE_DENIED');

    // Listing pages by id.
    await beacon.request('/v1/tenants', { method: 'POST', json: { id: 'zeta', name: 'Zeta' } });
    const first = (await (await beacon.request('/v1/tenants?limit=2')).json()) as {
      items: TenantJson[];
      next: string;
    };
    assert.deepEqual(
      first.items.map((t) => t.id),
      ['acme', 'default'],
    );
    const second = (await (await beacon.request(`/v1/tenants?limit=2&after=${first.next}`)).json()) as {
      items: TenantJson[];
      next: string | null;
    };
    assert.deepEqual(
      second.items.map((t) => t.id),
      ['zeta'],
    );
    assert.equal(second.next, null);

    // Acme's site collects page views from the public agent.
    const site = await createSite(beacon, { domain: 'acme.example' }, adminToken);
    const collect = () =>
      fetch(`${beacon.url}/v1/collect`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'user-agent': CHROME_UA },
        body: JSON.stringify({ s: site, e: [{ n: 'pageview', u: 'https://acme.example/' }] }),
      });
    assert.equal((await collect()).status, 202);

    // Disabled: its tokens are refused with their own code; enabled again, they work.
    const disabled = await beacon.request('/v1/tenants/acme/disable', { method: 'POST' });
    assert.equal(disabled.status, 200);
    assert.ok(((await disabled.json()) as TenantJson).disabledAt);
    const refused = await beacon.request('/v1/messages', { method: 'POST', token: adminToken, json: {} });
    assert.equal(refused.status, 403);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'TENANT_DISABLED');
    const collected = await collect();
    assert.equal(collected.status, 403, 'its sites collect nothing');
    assert.equal(((await collected.json()) as { error: { code: string } }).error.code, 'TENANT_DISABLED');
    assert.equal((await beacon.request('/v1/tenants/acme/enable', { method: 'POST' })).status, 200);
    assert.equal(
      (await beacon.request('/v1/messages', { method: 'POST', token: adminToken, json: {} })).status,
      202,
    );
    // An operator cannot lock itself out, nor touch a tenant that does not exist.
    assert.equal((await beacon.request('/v1/tenants/default/disable', { method: 'POST' })).status, 409);
    assert.equal((await beacon.request('/v1/tenants/nobody/disable', { method: 'POST' })).status, 404);
    assert.equal((await beacon.request('/v1/tenants/nobody')).status, 404);
  } finally {
    await beacon.destroy();
  }
});

test('beacon tenant create, list, disable and enable work on the store', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'beacon-tenant-cli-'));
  const beacon = (...args: string[]) =>
    run(process.execPath, [MAIN, 'tenant', ...args, '--data-dir', dataDir], {
      env: { ...process.env, BEACON_LOG_LEVEL: 'warn' },
    });
  try {
    const created = JSON.parse((await beacon('create', 'shop-1', '--name', 'Shop one', '--json')).stdout) as {
      tenant: string;
      adminToken: string;
    };
    assert.equal(created.tenant, 'shop-1');
    assert.match(created.adminToken, /^bcn_/);
    await assert.rejects(beacon('create', 'shop-1'), (err: { stderr: string }) =>
      err.stderr.includes('ALREADY_EXISTS'),
    );
    await assert.rejects(beacon('create', 'Shop_1'), (err: { stderr: string }) =>
      err.stderr.includes('TENANT_INVALID'),
    );
    await beacon('disable', 'shop-1');
    const listed = (await beacon('list', '--json')).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as TenantJson);
    assert.deepEqual(
      listed.map((t) => [t.id, t.disabledAt !== null]),
      [
        ['default', false],
        ['shop-1', true],
      ],
    );
    await beacon('enable', 'shop-1');
    assert.match((await beacon('list')).stdout, /shop-1\s+enabled/);
    await assert.rejects(beacon('disable', 'nobody'), (err: { stderr: string }) =>
      err.stderr.includes('NOT_FOUND'),
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
