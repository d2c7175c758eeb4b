// Where the disk goes, as an operator sees it: `GET /v1/storage`, `beacon storage` and `beacon compact`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { CheckRow } from '../src/monitor/model.ts';
import type { StorageReport } from '../src/observability/storage.ts';
import { startTestBeacon } from './helpers/server.ts';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const run = promisify(execFile);
const beacon = (...args: string[]) =>
  run(process.execPath, [MAIN, ...args], { env: { ...process.env, BEACON_LOG_LEVEL: 'warn' } });

const MINUTE = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 10);

/** A check of target `web` every minute for `minutes`, from `from`. */
const checks = (from: number, minutes: number): CheckRow[] =>
  Array.from({ length: minutes }, (_, i) => ({
    tenant: 'default',
    target: 'web',
    region: 'eu',
    slot: from / MINUTE + i,
    scheduledAt: from + i * MINUTE,
    startedAt: from + i * MINUTE + (i % 7),
    durationMs: 80 + (i % 13) + (i % 100) / 100,
    phases: { dnsMs: 2.1, connectMs: 18.4 + (i % 3), tlsMs: 36.2, ttfbMs: 20 + (i % 11), transferMs: 3.3 },
    status: 200,
    httpVersion: '1.1',
    bytes: 5120,
    tlsExpiresAt: T0 + 60 * DAY,
    patternMatched: null,
    redirects: 0,
    ok: true,
    error: null,
  }));

type ReportJson = Omit<StorageReport, 'at'> & { at: string };

const streamOf = (report: ReportJson, stream: string) => report.streams.find((s) => s.stream === stream)!;

test('GET /v1/storage and beacon storage show bytes per stream, hot against compacted, and per record', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'beacon-storage-'));
  try {
    const server = await startTestBeacon(
      { 'monitor.enabled': false, 'monitor.compaction.enabled': false },
      dataDir,
    );
    try {
      for (let i = 0; i < 20; i++) {
        const sent = await server.request('/v1/messages', {
          method: 'POST',
          json: { n: i },
          headers: i % 2 === 0 ? { 'idempotency-key': `order-${i}` } : {},
        });
        assert.equal(sent.status, 202);
      }
      // Two days of checks: the first in a block (as compaction leaves it), the second still hot.
      await server.store.transaction((tx) => tx.checks.insert(checks(T0, 2 * 1440)));
      await server.store.transaction((tx) => tx.checks.compact([{ series: 1, from: T0, to: T0 + DAY }]));

      const answer = await server.request('/v1/storage');
      assert.equal(answer.status, 200);
      const report = (await answer.json()) as ReportJson;
      assert.match(report.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const checksStream = streamOf(report, 'checks');
      assert.equal(checksStream.records, 2 * 1440);
      const part = (label: string) => checksStream.parts.find((p) => p.label === label)!;
      assert.deepEqual(
        [part('checks in blocks').tier, part('checks in blocks').records],
        ['compacted', 1440],
      );
      assert.deepEqual(
        [part('checks not yet in blocks').tier, part('checks not yet in blocks').records],
        ['hot', 1440],
      );
      assert.ok(
        part('checks in blocks').bytes < part('checks not yet in blocks').bytes / 3,
        JSON.stringify(checksStream.parts),
      );
      const messages = streamOf(report, 'messages');
      assert.equal(messages.records, 20);
      assert.ok(messages.parts.some((p) => p.tier === 'log' && p.records === 20));
      assert.ok(messages.parts.some((p) => p.label === 'log, client idempotency keys' && p.bytes > 0));
      assert.ok((messages.bytesPerRecord ?? 0) > 0);
      assert.equal(
        report.bytes,
        [...report.streams.flatMap((s) => s.parts), ...report.other].reduce((a, p) => a + p.bytes, 0),
      );

      // It covers every tenant: an operator's, not a tenant admin's; nobody's without a token.
      const created = await server.request('/v1/tenants', {
        method: 'POST',
        json: { id: 'acme', name: 'Acme' },
      });
      const { adminToken } = (await created.json()) as { adminToken: string };
      assert.equal((await server.request('/v1/storage', { token: adminToken })).status, 403);
      assert.equal((await server.request('/v1/storage', { token: null })).status, 401);
    } finally {
      await server.close();
    }

    // The same from the command line, on the stopped server's data; then compact the rest.
    const printed = JSON.parse(
      (await beacon('storage', '--json', '--data-dir', dataDir)).stdout,
    ) as ReportJson;
    assert.equal(streamOf(printed, 'checks').records, 2 * 1440);
    const text = (await beacon('storage', '--data-dir', dataDir)).stdout;
    assert.match(text, /^checks\s+\S+ \S+\s+2,880\s+\d+\.\d$/m);
    const compacted = await beacon('compact', '--older-than', '0', '--data-dir', dataDir);
    assert.match(
      compacted.stdout,
      /^compacted 1440 checks into 1 blocks \(\d+ bytes\) over 1 series in \d+\.\d s\n$/,
    );
    const after = JSON.parse((await beacon('storage', '--json', '--data-dir', dataDir)).stdout) as ReportJson;
    const hot = streamOf(after, 'checks').parts.find((p) => p.tier === 'hot' && p.records !== 0);
    assert.equal(hot, undefined, 'no check is left in a row');
    await assert.rejects(
      beacon('compact', '--older-than', 'soon', '--data-dir', dataDir),
      /a duration is a number and a unit/,
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
