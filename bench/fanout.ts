/**
 * Live fan-out latency: from the moment the server accepts a message (its `receivedAt`) to the moment
 * each WebSocket subscriber of `/v1/stream?streams=messages` receives the frame. Subscribers run in
 * child processes; stages grow the fleet (1 as the baseline, then 1,000 and 10,000) and post messages
 * at a steady rate at each size.
 *
 *   node bench/fanout.ts [--quick] [--profile DIR]
 */
import { readFileSync } from 'node:fs';
import { count, ms, percent, plural } from './lib/format.ts';
import { SubscriberFleet, type FleetReport } from './lib/fleet.ts';
import { parseBenchOptions, type BenchOptions } from './lib/options.ts';
import { note, Progress, step } from './lib/progress.ts';
import { printTable, type BenchReport, type Figure } from './lib/report.ts';
import { startServer, type BenchServer } from './lib/server.ts';

const TITLE = 'Fan-out';
/** Subscriber processes; with two cores, more would only take turns on the core the server leaves. */
const PROCESSES = 2;
const RATE_PER_SECOND = 20;
/** How long to wait for frames still in flight after the last post. */
const SETTLE_MS = 10_000;
const TARGET_SUBSCRIBERS = 10_000;
/** File descriptors a process needs besides its sockets. */
const FD_MARGIN = 200;

export async function runFanout(options: BenchOptions): Promise<BenchReport> {
  const stages = options.quick ? [1, 100, 1000] : [1, 1000, TARGET_SUBSCRIBERS];
  const messages = options.quick ? 40 : 200;
  checkFileLimit(stages.at(-1)!);
  step(`${TITLE}: starting a Beacon in a child process and ${PROCESSES} subscriber processes`);
  const server = await startServer({ profileDir: options.profileDir });
  const fleet = new SubscriberFleet(PROCESSES);
  try {
    const url = `${server.url.replace(/^http/, 'ws')}/v1/stream?streams=messages`;
    const results: { subscribers: number; report: FleetReport; expected: number }[] = [];
    for (const subscribers of stages) {
      step(`stage: ${plural(subscribers, 'subscriber')}`);
      await fleet.grow(subscribers, url, server.token);
      const stage = `s${subscribers}`;
      fleet.measure(stage);
      const started = performance.now();
      const serverBefore = (await server.stats()).cpuMicros;
      const fleetBefore = (await fleet.report()).cpuMicros;
      await postSteadily(server, stage, messages);
      const expected = fleet.size * messages;
      const report = await settle(fleet, expected);
      const seconds = (performance.now() - started) / 1000;
      const serverCpu = ((await server.stats()).cpuMicros - serverBefore) / 1e6 / seconds;
      const fleetCpu = (report.cpuMicros - fleetBefore) / 1e6 / seconds;
      note(
        `CPU over the stage: server ${percent(serverCpu, 1)}, subscriber processes ${percent(fleetCpu, 1)} of a core`,
      );
      results.push({ subscribers: fleet.size, report, expected });
    }
    const baseline = results[0]!.report.latency.summary();
    const first = plural(stages[0]!, 'subscriber');
    const figures = results.flatMap(({ subscribers, report, expected }) => {
      const { p50, p99, max } = report.latency.summary();
      const label = plural(subscribers, 'subscriber');
      const target = subscribers === TARGET_SUBSCRIBERS ? ({ op: '<', value: 100 } as const) : undefined;
      const lost = expected - report.received - report.dropped;
      return [
        { name: `${label}: p50`, value: p50, unit: 'ms' },
        { name: `${label}: p99`, value: p99, unit: 'ms', target },
        { name: `${label}: max`, value: max, unit: 'ms' },
        ...(subscribers === stages[0]
          ? []
          : [{ name: `${label}: p99 / ${first}`, value: p99 / baseline.p99, unit: 'ratio' } as const]),
        { name: `${label}: frames expected`, value: expected, unit: 'frames' },
        { name: `${label}: frames received`, value: report.received, unit: 'frames' },
        { name: `${label}: frames dropped`, value: report.dropped, unit: 'frames' },
        { name: `${label}: frames missing`, value: lost, unit: 'frames', target: { op: '<=', value: 0 } },
      ] satisfies Figure[];
    });
    printTable(TITLE, figures);
    return { title: TITLE, figures };
  } finally {
    step(`${TITLE}: closing subscribers and stopping the server`);
    await fleet.close();
    await server.close();
  }
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

/** Posts `messages` single messages at a steady rate, each tagged with the stage. */
async function postSteadily(server: BenchServer, stage: string, messages: number): Promise<void> {
  const progress = new Progress(`posting ${count(messages)} messages at ${RATE_PER_SECOND}/s`, messages);
  const started = performance.now();
  const posts: Promise<unknown>[] = [];
  for (let i = 0; i < messages; i++) {
    const due = started + (i * 1000) / RATE_PER_SECOND;
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    posts.push(
      server.request('/v1/messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ stage, seq: i, sentAt: Date.now() }),
        expect: 202,
      }),
    );
    progress.update(i + 1);
  }
  await Promise.all(posts);
  progress.finish(messages, 'all answered 202');
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
