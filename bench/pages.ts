/**
 * Keyset paging cost at depth. Seeds 1,000,000+ messages through the batch API, walks the listing to
 * take the cursor at depth 1,000,000, then times `GET /v1/messages?limit=100` from the start and from
 * that cursor, alternating, and compares them. With a keyset cursor a deep page should cost about the
 * same as the first.
 *
 *   node bench/pages.ts [--quick] [--profile DIR]
 */
import { count, ms, ratio } from './lib/format.ts';
import { fetchPage, pageQuery, walkMessages } from './lib/messages.ts';
import { parseBenchOptions, type BenchOptions } from './lib/options.ts';
import { Histogram, type LatencySummary } from './lib/percentiles.ts';
import { Progress, step } from './lib/progress.ts';
import { printTable, type BenchReport, type Figure } from './lib/report.ts';
import { startServer, type BenchServer } from './lib/server.ts';

const TITLE = 'Pages';
const BATCH_SIZE = 1000;
/** Seed requests in flight at once. */
const SEED_CONCURRENCY = 4;
const PAGE_LIMIT = 100;
const WARMUP_REQUESTS = 100;

export async function runPages(options: BenchOptions): Promise<BenchReport> {
  const depth = options.quick ? 100_000 : 1_000_000;
  // A few pages beyond the deep cursor, so the deep page is full.
  const seeded = depth + 10 * BATCH_SIZE;
  const iterations = options.quick ? 200 : 2000;
  step(`${TITLE}: starting a Beacon in a child process`);
  const server = await startServer({ profileDir: options.profileDir });
  try {
    await seed(server, seeded);
    await server.waitForSink('sink storing seeded messages');
    let deepCursor: string | undefined;
    const listed = await walkMessages(server, {
      label: `walking to depth ${count(depth)}`,
      expected: seeded,
      onPage: (page, before) => {
        if (before + page.items.length === depth) deepCursor = page.next ?? undefined;
      },
    });
    console.log(`\npages: seeded ${count(seeded)} messages, listing found ${count(listed)}.`);
    if (deepCursor === undefined) throw new Error(`the listing ended before depth ${count(depth)}`);
    const { first, deep } = await timePages(server, deepCursor, iterations);
    const figures: Figure[] = [
      ...percentiles('first page', first),
      ...percentiles(`page at depth ${count(depth)}`, deep),
      {
        name: 'deep / first, p50',
        value: deep.p50 / first.p50,
        unit: 'ratio',
        target: { op: '<=', value: 2 },
      },
      { name: 'deep / first, p95', value: deep.p95 / first.p95, unit: 'ratio' },
      { name: 'deep / first, p99', value: deep.p99 / first.p99, unit: 'ratio' },
    ];
    printTable(TITLE, figures);
    return { title: TITLE, figures };
  } finally {
    step(`${TITLE}: stopping the server`);
    await server.close();
  }
}

/** Posts `total` messages as batches of 1,000, a few requests at a time. */
async function seed(server: BenchServer, total: number): Promise<void> {
  step(`seeding ${count(total)} messages through POST /v1/messages/batch, ${count(BATCH_SIZE)} per request`);
  const progress = new Progress(`seeding ${count(total)} messages`, total);
  let next = 0;
  let done = 0;
  const started = performance.now();
  async function worker(): Promise<void> {
    while (next < total) {
      const from = next;
      next += BATCH_SIZE;
      const items = [];
      for (let i = from; i < Math.min(from + BATCH_SIZE, total); i++) {
        items.push({ sensor: `s${i % 100}`, value: i, tags: ['a', 'b'] });
      }
      await server.request('/v1/messages/batch', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(items),
        expect: 202,
      });
      done += items.length;
      progress.update(done);
    }
  }
  await Promise.all(Array.from({ length: SEED_CONCURRENCY }, worker));
  progress.finish(done, `${count(done / ((performance.now() - started) / 1000))} messages/s`);
}

/**
 * Times the first page and the deep page one request at a time, alternating which goes first in each
 * pair so drift on a noisy machine affects both alike.
 */
async function timePages(
  server: BenchServer,
  deepCursor: string,
  iterations: number,
): Promise<{ first: LatencySummary; deep: LatencySummary }> {
  const first = new Histogram(0.01);
  const deep = new Histogram(0.01);
  const time = async (cursor: string | undefined, into?: Histogram) => {
    const started = performance.now();
    const page = await fetchPage(server, PAGE_LIMIT, cursor);
    into?.record(performance.now() - started);
    if (page.items.length !== PAGE_LIMIT)
      throw new Error(`${pageQuery(PAGE_LIMIT, cursor)} returned ${page.items.length} items`);
  };
  step(`warming up: ${WARMUP_REQUESTS} requests for each page`);
  for (let i = 0; i < WARMUP_REQUESTS; i++) {
    await time(undefined);
    await time(deepCursor);
  }
  step(`timing GET ${pageQuery(PAGE_LIMIT)}: ${count(iterations)} requests for each page, alternating`);
  const progress = new Progress('pages timed', iterations * 2);
  for (let i = 0; i < iterations; i++) {
    if (i % 2 === 0) {
      await time(undefined, first);
      await time(deepCursor, deep);
    } else {
      await time(deepCursor, deep);
      await time(undefined, first);
    }
    progress.update(first.count + deep.count);
  }
  const summary = { first: first.summary(), deep: deep.summary() };
  progress.finish(
    first.count + deep.count,
    `p50 first ${ms(summary.first.p50)}, deep ${ms(summary.deep.p50)} (${ratio(summary.deep.p50 / summary.first.p50)})`,
  );
  return summary;
}

function percentiles(name: string, summary: LatencySummary): Figure[] {
  return [
    { name: `${name} p50`, value: summary.p50, unit: 'ms' },
    { name: `${name} p95`, value: summary.p95, unit: 'ms' },
    { name: `${name} p99`, value: summary.p99, unit: 'ms' },
  ];
}

if (import.meta.main) await runPages(parseBenchOptions());
