/**
 * 1,000 targets going down at once: how many messages reach the channel (grouped, or one per target),
 * and how long from each failing check to its notification arriving. Two runs side by side on fresh
 * servers: without grouping (`groupWindowSeconds: 0`) and with the rules' default window (10 s).
 *
 *   node bench/alerts.ts [--quick] [--targets N]
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { count } from './lib/format.ts';
import { parseBenchOptions, type BenchOptions } from './lib/options.ts';
import { Histogram } from './lib/percentiles.ts';
import { note, Progress, step } from './lib/progress.ts';
import { printTable, type BenchReport, type Figure } from './lib/report.ts';
import { startServer } from './lib/server.ts';

const TITLE = 'Alerts';

interface Item {
  readonly event: string;
  readonly subject: string;
  readonly at: string;
}

/** A farm whose every path answers 200 until it is told to fail, then 503. */
async function startFarm(): Promise<{
  url: string;
  fail(): void;
  hits: Set<string>;
  close(): Promise<void>;
}> {
  let failing = false;
  const hits = new Set<string>();
  const server = http.createServer((req, res) => {
    hits.add(req.url ?? '');
    res.writeHead(failing ? 503 : 200).end(failing ? 'down' : 'ok');
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    fail: () => (failing = true),
    hits,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** A webhook receiver noting when each message arrived and what it carried. */
async function startHook(): Promise<{
  port: number;
  messages: { at: number; items: Item[] }[];
  close(): Promise<void>;
}> {
  const messages: { at: number; items: Item[] }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      messages.push({ at, items: (JSON.parse(Buffer.concat(chunks).toString()) as { items: Item[] }).items });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    messages,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** One run: `n` targets, all failing at one moment, a rule grouping for `windowSeconds`. */
async function run(n: number, intervalSeconds: number, windowSeconds: number): Promise<Figure[]> {
  const label = windowSeconds === 0 ? 'no grouping' : `grouping ${windowSeconds} s`;
  step(`${label}: ${count(n)} targets every ${intervalSeconds} s`);
  const farm = await startFarm();
  const hook = await startHook();
  const server = await startServer({
    flags: { 'monitor.refreshMs': 500, 'monitor.perHost': n, 'notify.pollMs': 200 },
  });
  try {
    const post = (path: string, body: unknown) =>
      server.request(path, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
        expect: 201,
      });
    await post('/v1/channels', { id: 'hook', name: 'Hook', url: `json://127.0.0.1:${hook.port}/hook` });
    await post('/v1/alert-rules', { id: 'all', channels: ['hook'], groupWindowSeconds: windowSeconds });
    const creating = new Progress('creating targets', n);
    for (let i = 0; i < n; i++) {
      await post('/v1/targets', {
        id: `t${i}`,
        url: `${farm.url}/t${i}`,
        intervalSeconds,
        downAfter: 1,
        upAfter: 1,
      });
      creating.update(i + 1);
    }
    creating.finish(n);
    const warming = new Progress('targets checked while up', n);
    while (farm.hits.size < n) {
      warming.update(farm.hits.size);
      await new Promise((r) => setTimeout(r, 200));
    }
    warming.finish(n);

    const failedAt = Date.now();
    farm.fail();
    const told = new Progress('down notifications received', n);
    const deadline = failedAt + (intervalSeconds + windowSeconds + 60) * 1000;
    const received = () =>
      hook.messages.flatMap((m) => m.items).filter((i) => i.event === 'target.down').length;
    while (received() < n && Date.now() < deadline) {
      told.update(received(), `${hook.messages.length} messages`);
      await new Promise((r) => setTimeout(r, 200));
    }
    told.finish(received(), `${hook.messages.length} messages`);

    const latency = new Histogram(1);
    for (const m of hook.messages)
      for (const item of m.items)
        if (item.event === 'target.down') latency.record(m.at - Date.parse(item.at));
    const lat = latency.summary();
    const largest = Math.max(0, ...hook.messages.map((m) => m.items.length));
    const last = Math.max(...hook.messages.map((m) => m.at));
    note(
      `load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (shared machine)`,
    );
    return [
      {
        name: `${label}: notifications received`,
        value: received(),
        unit: 'messages',
        target: { op: '>=', value: n },
      },
      { name: `${label}: messages sent`, value: hook.messages.length, unit: 'messages' },
      { name: `${label}: most notifications in one message`, value: largest, unit: 'messages' },
      { name: `${label}: failing check → notification p50`, value: lat.p50, unit: 'ms' },
      { name: `${label}: failing check → notification p95`, value: lat.p95, unit: 'ms' },
      { name: `${label}: failing check → notification max`, value: lat.max, unit: 'ms' },
      { name: `${label}: failure → last notification`, value: last - failedAt, unit: 'ms' },
    ];
  } finally {
    await server.close();
    await hook.close();
    await farm.close();
  }
}

/** Both runs, side by side. */
export async function runAlerts(options: BenchOptions, targets?: number): Promise<BenchReport> {
  const n = targets ?? (options.quick ? 100 : 1000);
  const interval = options.quick ? 5 : 10;
  const figures = [...(await run(n, interval, 0)), ...(await run(n, interval, 10))];
  printTable(`${TITLE} (${count(n)} targets going down at once, checked every ${interval} s)`, figures);
  return { title: TITLE, figures };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { targets: { type: 'string' }, quick: { type: 'boolean' } },
  });
  await runAlerts(
    parseBenchOptions(values.quick ? ['--quick'] : []),
    values.targets === undefined ? undefined : Number(values.targets),
  );
}
