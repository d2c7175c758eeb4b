import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFarm } from './helpers/farm.ts';
import { freshDatabase, sqlRows } from './helpers/postgres.ts';
import { spawnBeacon } from './helpers/process.ts';
import { eventually } from './helpers/server.ts';

const TOKEN = 'pg-monitor-admin-token-0123456789abcdef';
const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

interface CheckView {
  target: string;
  region: string;
  slot: number;
  scheduledAt: string;
  ok: boolean;
  status: number | null;
  tlsExpiresAt: string | null;
  error: { class: string } | null;
}

test('beacon start --store postgres://…: the monitor stores each check once in PostgreSQL and lists it', async () => {
  const db = await freshDatabase();
  const farm = await startFarm();
  const dir = mkdtempSync(join(tmpdir(), 'beacon-pg-monitor-'));
  const beacon = await spawnBeacon(dir, { BEACON_ADMIN_TOKEN: TOKEN, BEACON_MONITOR_REFRESH_MS: '200' }, [
    '--store',
    db.url,
  ]);
  const api = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const res = await fetch(`${beacon.url}${path}`, { headers, ...init });
    assert.ok(res.ok, `${path}: ${res.status} ${await res.clone().text()}`);
    return (await res.json()) as T;
  };
  /** Every page of a target's checks, following the cursor. */
  const pages = async (id: string, query: string): Promise<CheckView[]> => {
    const all: CheckView[] = [];
    let next: string | null = null;
    do {
      const page: { items: CheckView[]; next: string | null } = await api(
        `/v1/targets/${id}/checks?limit=2${query}${next ? `&after=${next}` : ''}`,
      );
      all.push(...page.items);
      next = page.next;
    } while (next);
    return all;
  };
  try {
    for (const target of [
      { id: 'secure', url: `${farm.https}/ok`, intervalSeconds: 1, timeoutMs: 800, ignoreTlsErrors: true },
      { id: 'broken', url: `${farm.http}/status/500`, intervalSeconds: 1, timeoutMs: 800 },
    ]) {
      await api('/v1/targets', { method: 'POST', body: JSON.stringify(target) });
    }
    const listed = await api<{ items: { id: string }[] }>('/v1/targets');
    assert.deepEqual(
      listed.items.map((t) => t.id),
      ['broken', 'secure'],
    );

    // An incident opens after three failures: checks, rollups and incidents all live in PostgreSQL.
    await eventually(
      async () => {
        const page = await api<{ items: { cause: string }[] }>('/v1/targets/broken/incidents');
        return page.items.length > 0 ? true : undefined;
      },
      30_000,
      'an incident for the broken target',
    );
    for (const id of ['secure', 'broken']) {
      await eventually(
        async () => ((await pages(id, '')).length >= 3 ? true : undefined),
        30_000,
        `three checks of ${id}`,
      );
    }
    assert.equal((await api<{ state: string }>('/v1/targets/broken')).state, 'down');
    // Paused, the targets' history stops growing: the API, the rows and the rollups can be compared
    // without a check landing between two reads.
    for (const id of ['secure', 'broken'])
      await api(`/v1/targets/${id}`, { method: 'PATCH', body: JSON.stringify({ paused: true }) });
    const cut = Date.now();
    // Everything scheduled before the cut has been probed (timeout 800 ms), handed on and stored.
    await new Promise((r) => setTimeout(r, 3000));
    const to = `&to=${new Date(cut).toISOString()}`;

    for (const id of ['secure', 'broken']) {
      const viaApi = await pages(id, to);
      assert.ok(viaApi.length >= 3, `${id}: ${viaApi.length} checks`);
      // Checks are stored as a series (tenant, target, region) and hot rows of up to 16 encoded
      // checks each (their times in `at`), until compaction folds a closed period into a block.
      const rows = await sqlRows<{ at: number; region: string; tenant: string }>(
        db.url,
        `SELECT t.at, s.region, s.tenant FROM monitor_hot_checks h
         JOIN monitor_series s ON s.id = h.series CROSS JOIN unnest(h.at) AS t (at)
         WHERE s.target = '${id}' AND t.at < ${cut}
         ORDER BY t.at DESC, s.region DESC`,
      );
      assert.deepEqual(
        viaApi.map((c) => [Date.parse(c.scheduledAt), c.region]),
        rows.map((r) => [r.at, r.region]),
        `${id}: the API lists exactly the stored rows, newest first`,
      );
      assert.equal(new Set(viaApi.map((c) => c.slot)).size, viaApi.length, 'one check per slot');
      assert.ok(rows.every((r) => r.tenant === 'default'));
    }

    // A check that ran out of its 800 ms (a TLS handshake on a loaded machine can) is stored as a
    // timeout: right, but not what these assertions are about, so those are set aside.
    const answered = (checks: CheckView[]) => checks.filter((c) => c.error?.class !== 'timeout');
    const secure = answered(await pages('secure', to));
    assert.ok(secure.length > 0, 'a check of the secure target was answered in time');
    assert.ok(
      secure.every((c) => c.ok && c.status === 200),
      JSON.stringify(secure.filter((c) => !c.ok)),
    );
    assert.equal(Date.parse(secure[0]!.tlsExpiresAt!), farm.certExpiresAt, 'certificate expiry stored');
    const broken = answered(await pages('broken', to));
    assert.ok(broken.length > 0, 'a check of the broken target was answered in time');
    assert.ok(
      broken.every((c) => !c.ok && c.error?.class === 'status'),
      JSON.stringify(broken.filter((c) => c.error?.class !== 'status')),
    );

    // Summaries read the rollups the sink kept in PostgreSQL, counting each stored check once.
    const summary = async (id: string) =>
      api<{ total: { checks: number; uptime: number; errors: Record<string, number> } }>(
        `/v1/targets/${id}/summary?bucket=minute`,
      );
    const counted = async (id: string) => {
      const [row] = await sqlRows<{ n: string }>(
        db.url,
        `SELECT count(*) AS n FROM monitor_hot_checks h JOIN monitor_series s ON s.id = h.series
         WHERE s.target = '${id}'`,
      );
      const s = await summary(id);
      return s.total.checks === Number(row!.n) ? s : undefined;
    };
    // The rollups agree with the checks listed: errors by class, and uptime as the share answered ok.
    for (const id of ['secure', 'broken']) {
      const { total } = await eventually(() => counted(id), 10_000, 'rollups to match rows');
      const listed = await pages(id, '');
      assert.equal(total.checks, listed.length);
      const errors: Record<string, number> = {};
      for (const c of listed) if (c.error) errors[c.error.class] = (errors[c.error.class] ?? 0) + 1;
      assert.deepEqual(total.errors, errors);
      const ok = listed.filter((c) => c.ok).length;
      assert.ok(Math.abs(total.uptime - (100 * ok) / listed.length) < 0.01, `${id}: ${total.uptime}`);
    }

    const [incident] = await sqlRows<{ cause: string; ended_at: Date | null }>(
      db.url,
      "SELECT cause, ended_at FROM monitor_incidents WHERE tenant = 'default' AND target = 'broken'",
    );
    assert.deepEqual(incident, { cause: 'status', ended_at: null });
    const state = await api<{ state: string }>('/v1/targets/broken');
    assert.equal(state.state, 'paused');
  } finally {
    beacon.child.kill('SIGTERM');
    assert.equal(await beacon.exited, 0, beacon.output());
    await farm.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
