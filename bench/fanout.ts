/**
 * Live fan-out latency: from the moment the server accepts a message (its `receivedAt`) to the moment
 * each WebSocket subscriber of `/v1/stream?streams=messages` receives the frame. Subscribers run in
 * child processes; stages grow the fleet (1 as the baseline, then 1,000 and 10,000) and post messages
 * at a steady rate at each size, then once more slowly at the largest size. That slow stage runs
 * again against bench/floor-server.ts, a bare broadcast loop, so its figure has the machine's own
 * floor beside it: on a small machine the subscribers' sockets, not Beacon, set most of the latency.
 *
 *   node bench/fanout.ts [--quick] [--profile DIR]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { count, ms, percent, plural } from './lib/format.ts';
import { SubscriberFleet, type FleetReport } from './lib/fleet.ts';
import { parseBenchOptions, type BenchOptions } from './lib/options.ts';
import { note, Progress, step } from './lib/progress.ts';
import { printTable, type BenchReport, type Figure } from './lib/report.ts';
import { startServer, type BenchServer } from './lib/server.ts';

const TITLE = 'Fan-out';
/** Subscriber processes; with two cores, more would only take turns on the core the server leaves. */
const PROCESSES = 2;
/** How long to wait for frames still in flight after the last post. */
const SETTLE_MS = 10_000;
const TARGET = { subscribers: 10_000, p99: { op: '<', value: 100 } } as const;
/** File descriptors a process needs besides its sockets. */
const FD_MARGIN = 200;

/** One measurement: the fleet grown to `subscribers`, then `messages` posted at `rate` per second. */
interface Stage {
  readonly subscribers: number;
  readonly rate: number;
  readonly messages: number;
}

/**
 * 1 subscriber is the baseline. The last stage repeats the largest fleet at 1 message/s: with no
 * backlog between messages it shows what one record costs to fan out, apart from queueing.
 */
const STAGES: readonly Stage[] = [
  { subscribers: 1, rate: 20, messages: 200 },
  { subscribers: 1000, rate: 20, messages: 200 },
  { subscribers: 10_000, rate: 20, messages: 200 },
  { subscribers: 10_000, rate: 1, messages: 10 },
];
const QUICK_STAGES: readonly Stage[] = [
  { subscribers: 1, rate: 20, messages: 40 },
  { subscribers: 100, rate: 20, messages: 40 },
  { subscribers: 1000, rate: 20, messages: 40 },
  { subscribers: 1000, rate: 1, messages: 3 },
];

const FLOOR_ENTRY = fileURLToPath(new URL('./floor-server.ts', import.meta.url));

interface StageResult {
  readonly stage: Stage;
  readonly report: FleetReport;
  readonly expected: number;
}

export async function runFanout(options: BenchOptions): Promise<BenchReport> {
  const stages = options.quick ? QUICK_STAGES : STAGES;
  checkFileLimit(Math.max(...stages.map((s) => s.subscribers)));
  step(`${TITLE}: starting a Beacon in a child process and ${PROCESSES} subscriber processes`);
  const results = await measure(await startServer({ profileDir: options.profileDir }), stages);
  // The slow stage again against a bare broadcast loop: with no backlog, what one record costs the
  // machine's sockets alone. (At a steady 20/s the bare loop, one write per frame, falls further
  // behind than Beacon, which corks a subscriber's waiting frames into one write; it is no floor there.)
  const slow = stages.at(-1)!;
  step(`${TITLE}: the floor, a bare ws broadcast loop (bench/floor-server.ts), at ${describe(slow)}`);
  const floor = await measure(await startServer({ entry: FLOOR_ENTRY }), [slow]);
  const baseline = results[0]!;
  const baselineP99 = baseline.report.latency.percentile(99);
  const figures = [
    ...results.flatMap(({ stage, report, expected }) => {
      const { p50, p99, max } = report.latency.summary();
      const label = describe(stage);
      const target = stage.subscribers === TARGET.subscribers ? TARGET.p99 : undefined;
      const bare = floor.find((f) => f.stage === stage);
      return [
        { name: `${label}: p50`, value: p50, unit: 'ms' },
        { name: `${label}: p99`, value: p99, unit: 'ms', target },
        { name: `${label}: max`, value: max, unit: 'ms' },
        ...(stage === baseline.stage
          ? []
          : [{ name: `${label}: p99 / baseline`, value: p99 / baselineP99, unit: 'ratio' } as const]),
        ...(bare
          ? [
              { name: `${label}: floor p50`, value: bare.report.latency.percentile(50), unit: 'ms' } as const,
              { name: `${label}: floor p99`, value: bare.report.latency.percentile(99), unit: 'ms' } as const,
              {
                name: `${label}: p99 / floor p99`,
                value: p99 / bare.report.latency.percentile(99),
                unit: 'ratio',
              } as const,
            ]
          : []),
        { name: `${label}: frames received of ${count(expected)}`, value: report.received, unit: 'frames' },
        { name: `${label}: frames dropped`, value: report.dropped, unit: 'frames' },
        {
          name: `${label}: frames missing`,
          value: expected - report.received - report.dropped,
          unit: 'frames',
          target: { op: '<=', value: 0 },
        },
      ] satisfies Figure[];
    }),
  ];
  printTable(`${TITLE} (baseline: ${describe(baseline.stage)}; floor: a bare ws broadcast loop)`, figures);
  return { title: TITLE, figures };
}

/** Grows a fresh fleet through the stages against `server`, posting each stage's messages; then stops both. */
async function measure(server: BenchServer, stages: readonly Stage[]): Promise<StageResult[]> {
  const fleet = new SubscriberFleet(PROCESSES);
  try {
    const url = `${server.url.replace(/^http/, 'ws')}/v1/stream?streams=messages`;
    const results: StageResult[] = [];
    for (const stage of stages) {
      step(`stage: ${describe(stage)}`);
      await fleet.grow(stage.subscribers, url, server.token);
      const tag = `s${stage.subscribers}r${stage.rate}`;
      fleet.measure(tag);
      const started = performance.now();
      const serverBefore = (await server.stats()).cpuMicros;
      const fleetBefore = (await fleet.report()).cpuMicros;
      await postSteadily(server, tag, stage);
      const expected = fleet.size * stage.messages;
      const report = await settle(fleet, expected);
      const seconds = (performance.now() - started) / 1000;
      const serverCpu = ((await server.stats()).cpuMicros - serverBefore) / 1e6 / seconds;
      const fleetCpu = (report.cpuMicros - fleetBefore) / 1e6 / seconds;
      note(
        `CPU over the stage: server ${percent(serverCpu, 1)}, subscriber processes ${percent(fleetCpu, 1)} of a core`,
      );
      results.push({ stage, report, expected });
    }
    return results;
  } finally {
    step(`${TITLE}: closing subscribers and stopping the server`);
    await fleet.close();
    await server.close();
  }
}

function describe(stage: Stage): string {
  return `${plural(stage.subscribers, 'subscriber')} @ ${stage.rate}/s`;
}

/** Reports the open-file limit against what the largest stage needs. */
function checkFileLimit(subscribers: number): void {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const soft = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
  const limit = soft === undefined || soft === 'unlimited' ? Infinity : Number(soft);
  const server = subscribers + FD_MARGIN;
  const perProcess = Math.ceil(subscribers / PROCESSES) + FD_MARGIN;
  note(
    `open-file limit (ulimit -n): ${soft ?? 'unknown'}; the server needs ~${count(server)}, each subscriber process ~${count(perProcess)}`,
  );
  if (limit < server) {
    note(
      `warning: the limit is too low for ${count(subscribers)} subscribers; raise it (ulimit -n ${server}) or expect failed connections`,
    );
  }
}

/** Posts the stage's messages at its steady rate, each tagged so subscribers count only these. */
async function postSteadily(server: BenchServer, tag: string, stage: Stage): Promise<void> {
  const progress = new Progress(
    `posting ${count(stage.messages)} messages at ${stage.rate}/s`,
    stage.messages,
  );
  const started = performance.now();
  const posts: Promise<unknown>[] = [];
  for (let i = 0; i < stage.messages; i++) {
    const due = started + (i * 1000) / stage.rate;
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    posts.push(
      server.request('/v1/messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ stage: tag, seq: i, sentAt: Date.now() }),
        expect: 202,
      }),
    );
    progress.update(i + 1);
  }
  await Promise.all(posts);
  progress.finish(stage.messages, 'all answered 202');
}

/** Waits until every subscriber has every frame, or nothing has arrived for a while. */
async function settle(fleet: SubscriberFleet, expected: number): Promise<FleetReport> {
  const progress = new Progress('frames received', expected);
  let report = await fleet.report();
  let changedAt = Date.now();
  while (report.received + report.dropped < expected && Date.now() - changedAt < SETTLE_MS) {
    progress.update(report.received);
    await new Promise((r) => setTimeout(r, 250));
    const next = await fleet.report();
    if (next.received + next.dropped !== report.received + report.dropped) changedAt = Date.now();
    report = next;
  }
  const { p50, p99 } = report.latency.summary();
  progress.finish(
    report.received,
    `${count(report.dropped)} dropped, p50 ${ms(p50)}, p99 ${ms(p99)}` +
      (report.closed > 0 ? `; ${count(report.closed)} connections closed by the server` : ''),
  );
  return report;
}

if (import.meta.main) await runFanout(parseBenchOptions());
