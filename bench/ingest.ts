/**
 * Ingest throughput. (a) Durable single-message `POST /v1/messages`, answered only after the group
 * commit's fsync, against `POST /bench/noop` (same auth and JSON parsing, no commit); then checks that
 * every message answered 202 was stored. (b) `POST /v1/messages/batch` with 1,000 messages per request,
 * as a JSON array and as NDJSON, against the same no-op fed the same array.
 *
 *   node bench/ingest.ts [--quick] [--profile DIR]
 */
import { count } from './lib/format.ts';
import { interleave, runLoad, type LoadSummary } from './lib/load.ts';
import { walkMessages } from './lib/messages.ts';
import { parseBenchOptions, type BenchOptions } from './lib/options.ts';
import { step } from './lib/progress.ts';
import { printTable, type BenchReport, type Figure } from './lib/report.ts';
import { startServer, type BenchServer } from './lib/server.ts';

const SINGLE_BODY = JSON.stringify({ sensor: 's1', value: 42.5, tags: ['a', 'b'] });
const BATCH_SIZE = 1000;
const BATCH_ITEMS = Array.from({ length: BATCH_SIZE }, (_, i) => ({
  sensor: `s${i % 10}`,
  value: i / 10,
  tags: ['a', 'b'],
}));
const SINGLE_CONNECTIONS = 100;
/** More connections do not raise batch throughput (the server is CPU-bound); they only add latency. */
const BATCH_CONNECTIONS = 4;

const TITLE = 'Ingest';

export async function runIngest(options: BenchOptions): Promise<BenchReport> {
  // Each load runs this long in all, in two interleaved halves.
  const seconds = options.quick ? 2 : 10;
  const warmup = options.quick ? 1 : 2;
  step(`${TITLE}: starting a Beacon in a child process`);
  const server = await startServer({ profileDir: options.profileDir });
  try {
    const figures = [
      ...(await single(server, seconds, warmup)),
      ...(await batch(server, seconds, warmup)),
      ...(await writerModes(server, seconds, warmup, options)),
    ];
    printTable(TITLE, figures);
    return { title: TITLE, figures };
  } finally {
    step(`${TITLE}: stopping the server`);
    await server.close();
  }
}

/** Single messages: durable ingest against the no-op, interleaved, then a check of what was stored. */
async function single(server: BenchServer, seconds: number, warmup: number): Promise<Figure[]> {
  const answered: string[] = [];
  const collectId = (body: string) => {
    const { id } = JSON.parse(body) as { id?: string };
    if (id !== undefined) answered.push(id);
  };
  const spec = {
    contentType: 'application/json',
    body: SINGLE_BODY,
    connections: SINGLE_CONNECTIONS,
    seconds,
  };
  const noopSpec = { ...spec, label: 'single: no-op baseline', path: '/bench/noop' };
  const ingestSpec = { ...spec, label: 'single: durable ingest', path: '/v1/messages', onBody: collectId };
  step('warming up');
  await runLoad(server, { ...noopSpec, seconds: warmup });
  const warm = await runLoad(server, { ...ingestSpec, seconds: warmup });
  const [noop, ingest] = (await interleave(server, [noopSpec, ingestSpec])) as [LoadSummary, LoadSummary];

  step('checking that every message answered 202 was stored');
  await server.waitForSink('sink storing single messages');
  const stored = new Set<string>();
  const listed = await walkMessages(server, {
    label: 'listing stored messages',
    expected: answered.length,
    onPage: (page) => {
      for (const item of page.items) stored.add(item.id);
    },
  });
  const missing = answered.filter((id) => !stored.has(id)).length;
  const cut = warm.sent - warm.ok + (ingest.sent - ingest.ok);
  console.log(
    `\nsingle: ${count(answered.length)} answered 202, ${count(listed)} stored, ${count(missing)} of the 202s missing.` +
      `\n        ${count(listed - answered.length + missing)} stored without a 202 seen: requests in flight when a run` +
      ` stopped (${count(cut)} were cut off), which the server committed after the client hung up.`,
  );
  return [
    { name: 'single no-op baseline', value: noop.okPerSecond, unit: 'req/s' },
    { name: 'single durable ingest', value: ingest.okPerSecond, unit: 'req/s' },
    {
      name: 'single ingest / no-op',
      value: ingest.okPerSecond / noop.okPerSecond,
      unit: 'ratio',
      target: { op: '>=', value: 0.5 },
    },
    ...latencies(noop),
    ...latencies(ingest),
    { name: 'single 202s not stored', value: missing, unit: 'messages', target: { op: '<=', value: 0 } },
  ];
}

/** Batches of 1,000: JSON array and NDJSON, against the no-op parsing the same array. */
async function batch(server: BenchServer, seconds: number, warmup: number): Promise<Figure[]> {
  const json = JSON.stringify(BATCH_ITEMS);
  const ndjson = BATCH_ITEMS.map((item) => JSON.stringify(item)).join('\n') + '\n';
  const spec = { connections: BATCH_CONNECTIONS, seconds, contentType: 'application/json', body: json };
  const noopSpec = { ...spec, label: 'batch: no-op baseline (JSON array)', path: '/bench/noop' };
  const arraySpec = { ...spec, label: 'batch: JSON array', path: '/v1/messages/batch' };
  const ndjsonSpec = {
    ...arraySpec,
    label: 'batch: NDJSON',
    contentType: 'application/x-ndjson',
    body: ndjson,
  };
  step('warming up');
  await runLoad(server, { ...arraySpec, seconds: warmup });
  const [noop, array, lines] = (await interleave(server, [noopSpec, arraySpec, ndjsonSpec])) as [
    LoadSummary,
    LoadSummary,
    LoadSummary,
  ];
  const events = (load: LoadSummary) => load.okPerSecond * BATCH_SIZE;
  const target = { op: '>=', value: 200_000 } as const;
  return [
    { name: 'batch no-op baseline (JSON array)', value: events(noop), unit: 'events/s' },
    { name: 'batch ingest, JSON array', value: events(array), unit: 'events/s', target },
    { name: 'batch ingest, NDJSON', value: events(lines), unit: 'events/s', target },
    { name: 'batch JSON array / no-op', value: array.okPerSecond / noop.okPerSecond, unit: 'ratio' },
    ...latencies(array),
    ...latencies(lines),
  ];
}

/**
 * The log's commits on the event loop (the default) against commits on a writer thread
 * (`embeddedLog.writerThread: true`), on two servers measured in turn in one run: which wins depends
 * on the machine's disk and on how busy its cores are.
 */
async function writerModes(
  inline: BenchServer,
  seconds: number,
  warmup: number,
  options: BenchOptions,
): Promise<Figure[]> {
  step(`${TITLE}: starting a second Beacon that commits on a writer thread`);
  const threaded = await startServer({
    profileDir: options.profileDir,
    flags: { 'embeddedLog.writerThread': true },
  });
  try {
    const batchSpec = {
      connections: BATCH_CONNECTIONS,
      seconds,
      contentType: 'application/json',
      body: JSON.stringify(BATCH_ITEMS),
      path: '/v1/messages/batch',
    };
    const singleSpec = {
      connections: SINGLE_CONNECTIONS,
      seconds,
      contentType: 'application/json',
      body: SINGLE_BODY,
      path: '/v1/messages',
    };
    await runLoad(threaded, { ...batchSpec, label: 'warm-up', seconds: warmup });
    const [batchThread, batchInline, singleThread, singleInline] = (await interleave(
      [threaded, inline, threaded, inline],
      [
        { ...batchSpec, label: 'batch, writer thread' },
        { ...batchSpec, label: 'batch, commits on the event loop' },
        { ...singleSpec, label: 'single, writer thread' },
        { ...singleSpec, label: 'single, commits on the event loop' },
      ],
    )) as [LoadSummary, LoadSummary, LoadSummary, LoadSummary];
    return [
      { name: 'batch, writer thread', value: batchThread.okPerSecond * BATCH_SIZE, unit: 'events/s' },
      {
        name: 'batch, commits on the event loop',
        value: batchInline.okPerSecond * BATCH_SIZE,
        unit: 'events/s',
      },
      {
        name: 'batch: writer thread / event loop',
        value: batchThread.okPerSecond / batchInline.okPerSecond,
        unit: 'ratio',
      },
      { name: 'single, writer thread', value: singleThread.okPerSecond, unit: 'req/s' },
      { name: 'single, commits on the event loop', value: singleInline.okPerSecond, unit: 'req/s' },
      {
        name: 'single: writer thread / event loop',
        value: singleThread.okPerSecond / singleInline.okPerSecond,
        unit: 'ratio',
      },
    ];
  } finally {
    await threaded.close();
  }
}

function latencies(load: LoadSummary): Figure[] {
  return [
    { name: `${load.label} p50`, value: load.p50, unit: 'ms' },
    { name: `${load.label} p99`, value: load.p99, unit: 'ms' },
  ];
}

if (import.meta.main) await runIngest(parseBenchOptions());
