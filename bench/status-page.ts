/**
 * Status page rendering: a page of 100 targets, each with 90 days of day rollups, one open incident
 * every tenth target and 50 incident updates, served by an in-process Beacon (SQLite) with the
 * page cache off, so every request reads the store and renders. It times, alternating, over HTTP on
 * one connection at a time:
 *
 * - `GET /status/{slug}` (HTML), `GET /status/{slug}.json`, and
 * - `GET /healthz`, a route that does no work, as the floor of a request's cost;
 *
 * and prints their percentiles, each page's cost over the floor as a ratio, the render alone
 * (store reads plus HTML, in-process), and the 1-minute load average (the machine may be shared).
 *
 *   node bench/status-page.ts [--quick]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadConfig } from '../src/config/load.ts';
import { statusHtml } from '../src/monitor/status/html.ts';
import { statusView } from '../src/monitor/status/view.ts';
import { startBeacon } from '../src/roles/start.ts';
import { seedHistory } from '../test/helpers/status-pages.ts';
import { parseBenchOptions } from './lib/options.ts';
import { Histogram, type LatencySummary } from './lib/percentiles.ts';
import { step } from './lib/progress.ts';
import { printTable, type BenchReport, type Figure } from './lib/report.ts';

const TITLE = 'Status page';
const TARGETS = 100;
const DAYS = 90;
const TOKEN = 'bench-admin-token-0123456789abcdef';

async function time(fn: () => Promise<unknown>, into: Histogram): Promise<void> {
  const start = performance.now();
  await fn();
  into.record(performance.now() - start);
}

async function get(url: string): Promise<void> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`${url}: ${response.status}`);
  await response.arrayBuffer();
}

export async function runStatusPage(options: { quick: boolean }): Promise<BenchReport> {
  const iterations = options.quick ? 50 : 500;
  const dir = mkdtempSync(join(tmpdir(), 'beacon-bench-status-'));
  const config = loadConfig({
    flags: {
      port: 0,
      host: '127.0.0.1',
      dataDir: dir,
      logLevel: 'silent',
      adminToken: TOKEN,
      'monitor.enabled': false,
      'monitor.statusPages.cacheSeconds': 0,
      'monitor.statusPages.rateLimitPerMinute': 0,
    },
  });
  step(`${TITLE}: seeding ${TARGETS} targets × ${DAYS} days`);
  const beacon = await startBeacon(config);
  try {
    const api = (path: string, json: unknown) =>
      fetch(beacon.url + path, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(json),
      }).then((r) => {
        if (!r.ok) throw new Error(`${path}: ${r.status}`);
      });
    const ids = Array.from({ length: TARGETS }, (_, i) => `t${String(i).padStart(3, '0')}`);
    for (const id of ids)
      await api('/v1/targets', { id, name: `Service ${id}`, url: `https://${id}.example/` });
    await seedHistory(beacon.store, {
      tenant: 'default',
      targets: ids,
      days: DAYS,
      down: ids.filter((_, i) => i % 10 === 0),
      downOf: (_, ago) => (ago % 7 === 0 ? 30 : 0),
    });
    await api('/v1/status-pages', {
      id: 'bench',
      slug: 'bench',
      title: 'Bench',
      groups: Array.from({ length: 10 }, (_, g) => ({
        name: `Group ${g}`,
        targets: ids.slice(g * 10, g * 10 + 10),
      })),
      showResponseTimes: true,
    });
    for (let i = 0; i < 50; i++)
      await api('/v1/status-pages/bench/updates', {
        title: `Update ${i}`,
        body: `Something **happened** ${i}; see [the notes](https://example.com/${i}).`,
        status: 'monitoring',
      });

    const page = (await beacon.store.statusPages.get('default', 'bench'))!;
    const html = new Histogram();
    const json = new Histogram();
    const floor = new Histogram();
    const render = new Histogram();
    let body = '';
    step(`${TITLE}: ${iterations} requests of each, alternating`);
    for (let i = 0; i < iterations + 10; i++) {
      // The first ten warm up: compiled statements, JIT.
      const sink = i < 10 ? new Histogram() : undefined;
      await time(() => get(`${beacon.url}/status/bench`), sink ?? html);
      await time(() => get(`${beacon.url}/status/bench.json`), sink ?? json);
      await time(() => get(`${beacon.url}/healthz`), sink ?? floor);
      await time(async () => {
        body = statusHtml(
          await statusView(beacon.store, page, { maxTargets: TARGETS, now: Date.now() }),
          '/status/bench',
        );
      }, sink ?? render);
    }
    const load = loadavg()[0];
    const of = (name: string, s: LatencySummary): Figure[] => [
      { name: `${name} p50`, value: s.p50, unit: 'ms', load },
      { name: `${name} p95`, value: s.p95, unit: 'ms', load },
    ];
    const [h, j, f, r] = [html.summary(), json.summary(), floor.summary(), render.summary()];
    const figures: Figure[] = [
      ...of('GET /status/{slug} (HTML)', h),
      ...of('GET /status/{slug}.json', j),
      ...of('GET /healthz (no-op floor)', f),
      ...of('render alone (store + HTML)', r),
      { name: 'HTML / no-op, p50', value: h.p50 / f.p50, unit: 'ratio', load },
      { name: 'JSON / no-op, p50', value: j.p50 / f.p50, unit: 'ratio', load },
      { name: 'HTML page size', value: Buffer.byteLength(body), unit: 'bytes' },
      { name: 'HTML page size, gzipped (as sent)', value: gzipSync(body).length, unit: 'bytes' },
    ];
    printTable(TITLE, figures);
    return { title: TITLE, figures };
  } finally {
    await beacon.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await runStatusPage(parseBenchOptions());
