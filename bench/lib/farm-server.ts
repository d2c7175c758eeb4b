/**
 * The monitor benchmark's target farm, in its own process so its CPU and memory are not the
 * prober's. Listens on 0.0.0.0 so every 127.x.y.z loopback address reaches it: the benchmark spreads
 * targets over many "hosts" the way real targets are, and the per-host limit applies as it would.
 * Each answer waits `--delay-ms` (± half) to look like a real site, and every connection is closed
 * after one response, as the prober never reuses one.
 *
 * It records when each request for `/t<i>` arrives, so lateness and missed cycles are measured at the
 * target, not by the prober: asked over IPC with `{ from, to, intervalMs, tenant }`, it answers with
 * the lateness of every arrival in [from, to) after its slot start (slot starts follow the prober's
 * documented schedule: a stable per-target offset within the interval, `slotOffset`), and the slots
 * that began in [from, to − intervalMs/6) with no arrival at all (missed cycles).
 *
 *   node bench/lib/farm-server.ts --delay-ms 30   → prints {"port":N}
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { slotOffset } from '../../src/monitor/schedule.ts';
import { Histogram } from './percentiles.ts';

const delayArg = process.argv.indexOf('--delay-ms');
const delay = delayArg === -1 ? 30 : Number(process.argv[delayArg + 1]);
let served = 0;
const body = 'beacon bench farm: ok\n'.repeat(20);

/** Arrivals as two growable columns (target index, epoch ms): 100,000 targets × minutes stays small. */
let targetOf = new Int32Array(1 << 16);
let arrivedAt = new Float64Array(1 << 16);
let arrivals = 0;
let firstAt = 0;

function record(index: number, at: number): void {
  if (arrivals === targetOf.length) {
    const t = new Int32Array(targetOf.length * 2);
    t.set(targetOf);
    targetOf = t;
    const a = new Float64Array(arrivedAt.length * 2);
    a.set(arrivedAt);
    arrivedAt = a;
  }
  targetOf[arrivals] = index;
  arrivedAt[arrivals] = at;
  arrivals += 1;
  if (firstAt === 0) firstAt = at;
}

const server = http.createServer((req, res) => {
  served += 1;
  const match = /^\/t(\d+)/.exec(req.url ?? '');
  if (match) record(Number(match[1]), Date.now());
  res.setHeader('connection', 'close');
  setTimeout(() => res.end(body), delay * (0.5 + Math.random()));
});
server.maxConnections = 100_000;
// Node's default accept queue (511) overflowed at 1,000 connections a second on a busy machine: the
// kernel drops the SYN and the prober's connect waits out a 1 s retransmit, which showed as lateness
// that was the farm's (nstat TcpExtListenOverflows). The kernel caps this at net.core.somaxconn.
server.listen({ port: 0, host: '0.0.0.0', backlog: 65_535 }, () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + '\n');
});

interface Ask {
  readonly from?: number;
  readonly to?: number;
  readonly intervalMs?: number;
  readonly tenant?: string;
  readonly reset?: boolean;
}

process.on('message', (ask: Ask) => {
  if (ask.reset) {
    arrivals = 0;
    firstAt = 0;
    process.send?.({ ok: true });
    return;
  }
  if (ask.from === undefined || ask.to === undefined || ask.intervalMs === undefined) {
    process.send?.({ served, cpu: process.cpuUsage(), firstAt });
    return;
  }
  const { from, to, intervalMs } = ask;
  const tenant = ask.tenant ?? 'default';
  const offsets = new Map<number, number>();
  const offsetOf = (i: number) => {
    let o = offsets.get(i);
    if (o === undefined) offsets.set(i, (o = slotOffset(`${tenant}/t${i}`, intervalMs)));
    return o;
  };
  const lateness = new Histogram(1);
  // Per target, the slots that got an arrival; a slot's arrival is the first after its start.
  const seen = new Map<number, Set<number>>();
  let inWindow = 0;
  let max = 0;
  for (let k = 0; k < arrivals; k++) {
    const at = arrivedAt[k]!;
    const i = targetOf[k]!;
    const o = offsetOf(i);
    const slot = Math.floor((at - o) / intervalMs);
    let slots = seen.get(i);
    if (!slots) seen.set(i, (slots = new Set()));
    slots.add(slot);
    if (at < from || at >= to) continue;
    inWindow += 1;
    const late = at - (slot * intervalMs + o);
    if (late > max) max = late;
    lateness.record(late);
  }
  // Due slots: those that began in [from, to − interval/6), so each had time to arrive in the window.
  const dueTo = to - intervalMs / 6;
  let due = 0;
  let missed = 0;
  for (const [i, slots] of seen) {
    const o = offsetOf(i);
    for (let s = Math.ceil((from - o) / intervalMs); s * intervalMs + o < dueTo; s++) {
      due += 1;
      if (!slots.has(s)) missed += 1;
    }
  }
  process.send?.({
    served,
    cpu: process.cpuUsage(),
    firstAt,
    inWindow,
    targets: seen.size,
    due,
    missed,
    lateness: { p50: lateness.percentile(50), p99: lateness.percentile(99), max },
    onTime1s: lateness.count === 0 ? 0 : countAtMost(lateness, 1000) / lateness.count,
  });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

/** Arrivals at most `limit` ms late. */
function countAtMost(h: Histogram, limit: number): number {
  const json = h.toJSON();
  let n = 0;
  for (const [bucket, c] of json.buckets) if (bucket * json.resolution <= limit) n += c;
  return n;
}
