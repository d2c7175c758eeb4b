/**
 * Uptime monitor benchmark: N targets at a 60 s interval against a local target farm, with Beacon in
 * a child process launched as an operator would (`bin/beacon`), by default `beacon probe` (only the
 * prober, the "instance" of issues 000 and 20) started from a targets file, as an operator would.
 * The farm (lib/farm-server.ts, its own process) records when each request arrives, so lateness and
 * missed cycles are measured at the target, not by the prober. For each role and N it prints checks/s
 * against due, lateness at the target p50/p99/max, missed cycles, the prober's own jitter p99, RSS
 * steady and at start-up (peak until 20 s after the first check), CPU ms per check (CPU time of all
 * the child's threads over checks that reached the farm, so robust to a busy machine), the time from
 * launch to the first check and from SIGTERM to exit, and the load average. At the end of each run it
 * says where the RSS is (file pages, V8's pages, malloc's heap, the rest; from smaps) and each
 * isolate's committed heap (from a diagnostic report, which NODE_OPTIONS turns on for SIGUSR2).
 *
 *   node bench/monitor.ts [--counts 20000,40000,60000,100000] [--role probe,start] [--seconds 180]
 *                         [--from file|store] [--workers N] [--interval 60] [--delay-ms 30]
 *                         [--node-flags "--max-semi-space-size=1"] [--rss-trace FILE] [--child-out FILE]
 *
 * Issue 20's targets: at 20,000, ≤ 1.0 CPU ms per check, p99 at the target ≤ 100 ms, steady RSS ≤ 100 MB,
 * first check within 5 s; at 60,000, ≥ 99% of due checks on time and RSS ≤ 200 MB; 100,000 the stretch.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Target } from '../src/monitor/target.ts';
import { sqliteStore } from '../src/roles/store-sqlite.ts';
import { count, ms } from './lib/format.ts';
import { note, step } from './lib/progress.ts';
import { isolateHeaps, memoryBreakdown, type IsolateHeap, type MemoryBreakdown } from './lib/memory.ts';
import { loadAverages, procSample } from './lib/proc.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1]!;
};
const counts = arg('counts', '20000,40000,60000,100000').split(',').map(Number);
const seconds = Number(arg('seconds', '180'));
const interval = Number(arg('interval', '60'));
const delayMs = arg('delay-ms', '30');
/** `probe`: only the prober (`beacon probe`), the seed's "instance"; `start`: everything in one process. */
const roles = arg('role', 'probe').split(',');
/** Node flags that replace what bin/beacon sets for the role (BEACON_NODE_FLAGS); `--node-flags ''` runs with none. */
const nodeFlags = process.argv.includes('--node-flags') ? arg('node-flags', '') : undefined;
/** `file`: the targets come from a targets file (BEACON_MONITOR_TARGETS_FILE); `store`: written straight into the store. */
const from = arg('from', 'file');
/** Worker threads for the probe (BEACON_MONITOR_WORKERS); its default when not given. */
const workers = process.argv.includes('--workers') ? arg('workers', '1') : undefined;
/** Writes each run's RSS samples (every 250 ms: seconds since launch, RSS and anonymous MB) to FILE.<role>.<n>.tsv. */
const rssTrace = process.argv.includes('--rss-trace') ? arg('rss-trace', '') : undefined;
/** Writes the child's standard output (with `--node-flags "... --trace-gc"`, its collections) to FILE.<role>.<n>.log. */
const childOut = process.argv.includes('--child-out') ? arg('child-out', '') : undefined;
const BEACON = fileURLToPath(new URL('../bin/beacon', import.meta.url));

async function startFarm(): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(
    fileURLToPath(new URL('./lib/farm-server.ts', import.meta.url)),
    ['--delay-ms', delayMs],
    {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    },
  );
  const port = await new Promise<number>((resolve) =>
    child.stdout!.once('data', (d: Buffer) => resolve((JSON.parse(d.toString()) as { port: number }).port)),
  );
  return { child, port };
}

/** Writes N targets spread over 250 loopback hosts straight into a fresh store. */
async function seedTargets(dataDir: string, n: number, port: number): Promise<void> {
  const store = sqliteStore({ dataDir });
  await store.open();
  await store.tenants.ensure({ id: 'default', name: 'Default', createdAt: Date.now() });
  const now = Date.now();
  // Every tenth target also searches its body for a pattern, so RE2 matching is part of the load.
  const targets: Target[] = Array.from({ length: n }, (_, i) => ({
    kind: 'http' as const,
    id: `t${i}`,
    tenant: 'default',
    source: 'file' as const,
    createdAt: now,
    updatedAt: now,
    url: `http://127.0.1.${(i % 250) + 1}:${port}/t${i}`,
    intervalSeconds: interval,
    timeoutMs: 10_000,
    method: 'GET' as const,
    headers: {},
    expectStatus: ['200-399'],
    ...(i % 10 === 0 ? { pattern: 'farm: ok' } : {}),
    patternMustMatch: true,
    maxRedirects: 0,
    maxBodyBytes: 1_048_576,
    ignoreTlsErrors: false,
    downAfter: 3,
    upAfter: 2,
    tags: [],
    assertions: [],
    tlsExpiryDays: [21, 14, 7],
  }));
  await store.targets.replaceFileTargets(targets);
  await store.close();
}

interface FarmReport {
  readonly served: number;
  readonly firstAt: number;
  readonly inWindow: number;
  readonly targets: number;
  readonly due: number;
  readonly missed: number;
  readonly lateness: { p50: number; p99: number; max: number };
  readonly onTime1s: number;
}

/** Asks the farm about the arrivals it recorded (see lib/farm-server.ts). */
function askFarm<T>(farm: ChildProcess, message: object): Promise<T> {
  return new Promise<T>((resolve) => {
    farm.once('message', (m) => resolve(m as T));
    farm.send(message);
  });
}

/** Writes N targets as an operator's targets file would hold them (the same set `seedTargets` stores). */
function writeTargetsFile(file: string, n: number, port: number): void {
  const out = createWriteStream(file);
  let text = 'targets:\n';
  for (let i = 0; i < n; i++) {
    text += `  - id: t${i}\n    url: http://127.0.1.${(i % 250) + 1}:${port}/t${i}\n    intervalSeconds: ${interval}\n    timeoutMs: 10000\n    expectStatus: ["200-399"]\n`;
    if (i % 10 === 0) text += '    pattern: "farm: ok"\n';
    if (text.length > 65_536) {
      out.write(text);
      text = '';
    }
  }
  out.end(text);
  return;
}

interface Result {
  readonly role: string;
  readonly n: number;
  readonly expectedPerSecond: number;
  /** Requests that reached the farm per second in the steady window. */
  readonly checksPerSecond: number;
  /** Lateness at the target: arrival − slot start. */
  readonly lateness: { p50: number; p99: number; max: number };
  /** Due slots with no arrival, as a share of due slots. */
  readonly missedShare: number;
  readonly onTime1s: number;
  readonly rssStartupPeakMb: number;
  readonly rssSteadyPeakMb: number;
  readonly rssSteadyMeanMb: number;
  /** The steady RSS's own part (RssAnon): the rest is the node binary's and libraries' file pages. */
  readonly anonSteadyMeanMb: number;
  readonly cpuMsPerCheck: number;
  readonly cpuShare: number;
  readonly firstCheckSeconds: number;
  readonly stopSeconds: number;
  readonly load: string;
  /** Where the RSS was at the end of the window (smaps), and each isolate's heap (a diagnostic report). */
  readonly memory: MemoryBreakdown;
  readonly isolates: IsolateHeap[] | undefined;
}

async function runOne(role: string, n: number, farm: { child: ChildProcess; port: number }): Promise<Result> {
  const dataDir = mkdtempSync(join(tmpdir(), 'beacon-bench-monitor-'));
  try {
    step(`beacon ${role}: ${count(n)} targets at ${interval} s for ${seconds} s, from the ${from}`);
    const file = join(dataDir, 'targets.yaml');
    if (from === 'store') await seedTargets(dataDir, n, farm.port);
    else {
      // The store only needs its tenant: the targets come from the file, as an operator's would.
      const store = sqliteStore({ dataDir });
      await store.open();
      await store.tenants.ensure({ id: 'default', name: 'Default', createdAt: Date.now() });
      await store.close();
      writeTargetsFile(file, n, farm.port);
      await new Promise((r) => setTimeout(r, 500));
    }
    await askFarm(farm.child, { reset: true });
    const launchedAt = Date.now();
    // bin/beacon execs node, so the child's pid is node's and /proc shows its memory and CPU (all threads).
    const child = spawn(BEACON, [role, '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir], {
      env: {
        ...process.env,
        ...(nodeFlags === undefined ? {} : { BEACON_NODE_FLAGS: nodeFlags }),
        ...(from === 'file' ? { BEACON_MONITOR_TARGETS_FILE: file } : {}),
        ...(workers === undefined ? {} : { BEACON_MONITOR_WORKERS: workers }),
        // A diagnostic report on SIGUSR2 gives each isolate's heap at the end; bin/beacon's flags stay.
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --report-on-signal --report-signal=SIGUSR2 --report-exclude-env --report-directory=${dataDir}`,
        BEACON_LOG_LEVEL: 'warn',
        BEACON_ADMIN_TOKEN: 'bench-admin-token-0123456789abcdef',
        BEACON_MONITOR_CONCURRENCY: '2000',
        BEACON_MONITOR_PER_HOST: '16',
        BEACON_MONITOR_REFRESH_MS: '60000',
      },
      stdio: ['ignore', childOut ? openSync(`${childOut}.${role}.${n}.log`, 'w') : 'ignore', 'inherit'],
    });
    const samples: { rssMb: number; anonMb: number; cpuSeconds: number; at: number }[] = [];
    let exitedEarly: number | null | undefined;
    child.once('exit', (code) => (exitedEarly = code));
    const sample = () => {
      // The child may be gone (out of memory, say): that is reported below, not thrown from a timer.
      if (exitedEarly === undefined) {
        try {
          samples.push({ ...procSample(child.pid!), at: Date.now() });
        } catch {
          // exited between the check and the read
        }
      }
    };
    sample();
    const sampler = setInterval(sample, 250);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    clearInterval(sampler);
    if (exitedEarly !== undefined)
      throw new Error(`beacon ${role} exited during the run (code ${exitedEarly})`);
    const ended = Date.now();
    const load = loadAverages();
    // After the window, so the report's pause is not measured; with several isolates it takes seconds.
    const memory = memoryBreakdown(child.pid!);
    child.kill('SIGUSR2');
    let isolates: IsolateHeap[] | undefined;
    for (let i = 0; i < 300 && isolates === undefined; i++) {
      await new Promise((r) => setTimeout(r, 100));
      isolates = isolateHeaps(dataDir);
    }
    const exited = new Promise((r) => child.once('exit', r));
    const stopAt = performance.now();
    child.kill('SIGTERM');
    await exited;
    const stopSeconds = (performance.now() - stopAt) / 1000;

    const first = await askFarm<{ firstAt: number }>(farm.child, {});
    if (!first.firstAt) throw new Error(`beacon ${role}: no check reached the farm in ${seconds} s`);
    if (rssTrace)
      writeFileSync(
        `${rssTrace}.${role}.${n}.tsv`,
        `# first check at ${((first.firstAt - launchedAt) / 1000).toFixed(2)} s\nseconds\trss\tanon\tcpu\n` +
          samples
            .map(
              (s) =>
                `${((s.at - launchedAt) / 1000).toFixed(2)}\t${s.rssMb.toFixed(1)}\t${s.anonMb.toFixed(1)}\t${s.cpuSeconds.toFixed(2)}`,
            )
            .join('\n') +
          '\n',
      );
    // Steady: from 20 s after the first check (start-up and JIT warm-up behind) to the end.
    const steadyFrom = first.firstAt + 20_000;
    const report = await askFarm<FarmReport>(farm.child, {
      from: steadyFrom,
      to: ended,
      intervalMs: interval * 1000,
    });
    const steady = samples.filter((s) => s.at >= steadyFrom);
    const startup = samples.filter((s) => s.at < steadyFrom);
    if (steady.length < 2) throw new Error(`beacon ${role}: the run is too short for a steady window`);
    const cpuSeconds = steady.at(-1)!.cpuSeconds - steady[0]!.cpuSeconds;
    const steadySeconds = (steady.at(-1)!.at - steady[0]!.at) / 1000;
    const window = (ended - steadyFrom) / 1000;
    return {
      role,
      n,
      expectedPerSecond: n / interval,
      checksPerSecond: report.inWindow / window,
      lateness: report.lateness,
      missedShare: report.due === 0 ? 1 : report.missed / report.due,
      onTime1s: report.onTime1s,
      rssStartupPeakMb: Math.max(...startup.map((s) => s.rssMb)),
      rssSteadyPeakMb: Math.max(...steady.map((s) => s.rssMb)),
      rssSteadyMeanMb: steady.reduce((a, s) => a + s.rssMb, 0) / steady.length,
      anonSteadyMeanMb: steady.reduce((a, s) => a + s.anonMb, 0) / steady.length,
      cpuMsPerCheck: (cpuSeconds * 1000) / ((report.inWindow * steadySeconds) / window),
      cpuShare: cpuSeconds / steadySeconds,
      firstCheckSeconds: (first.firstAt - launchedAt) / 1000,
      stopSeconds,
      load,
      memory,
      isolates,
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const farm = await startFarm();
const results: Result[] = [];
try {
  for (const role of roles) {
    for (const n of counts) {
      const r = await runOne(role, n, farm);
      results.push(r);
      const m = r.memory;
      const heaps = r.isolates?.map(
        (h, i) =>
          `${i === 0 ? 'main' : `thread ${i}`} ${h.committedMb.toFixed(0)} (live ${h.usedMb.toFixed(0)})`,
      );
      note(
        `memory at the end: RSS ${m.rssMb.toFixed(0)} MB = file pages ${m.fileMb.toFixed(0)} + V8 pages ${m.v8PagesMb.toFixed(0)} + malloc heap ${m.mallocHeapMb.toFixed(0)} + other anonymous ${m.otherAnonMb.toFixed(0)}; ${m.threads} OS threads; isolates' heaps committed: ${heaps?.join(', ') ?? 'no report'} MB`,
      );
      note(
        `${count(r.checksPerSecond)} checks/s of ${count(r.expectedPerSecond)} due · at the target p50 ${ms(r.lateness.p50)} p99 ${ms(r.lateness.p99)} · missed ${(r.missedShare * 100).toFixed(2)}% · ${r.cpuMsPerCheck.toFixed(2)} CPU ms/check · RSS ${r.rssSteadyMeanMb.toFixed(0)} MB (of which anonymous ${r.anonSteadyMeanMb.toFixed(0)}; start-up ${r.rssStartupPeakMb.toFixed(0)}) · first check ${r.firstCheckSeconds.toFixed(1)} s · load ${r.load}`,
      );
    }
  }
} finally {
  farm.child.kill('SIGTERM');
}

console.log(
  `\nMonitor: targets at ${interval} s from the ${from} against a local farm (${delayMs} ms ± 50% per answer), launched by bin/beacon${nodeFlags === undefined ? ' with its flags for the role' : ` with node flags "${nodeFlags}" instead of its own`}${workers === undefined ? '' : `, ${workers} worker(s)`}. Lateness and missed cycles are measured at the farm.\n`,
);
console.log(
  '| role | targets | due/s | checks/s | late p50 (target) | late p99 (target) | late max | missed cycles | RSS steady mean / peak | of which anonymous | RSS start-up peak | isolates | CPU ms/check | CPU (cores) | first check | SIGTERM → exit | load (1, 5, 15 min) |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(
    `| \`beacon ${r.role}\` | ${count(r.n)} | ${r.expectedPerSecond.toFixed(1)} | ${r.checksPerSecond.toFixed(1)} | ${ms(r.lateness.p50)} | ${ms(r.lateness.p99)} | ${ms(r.lateness.max)} | ${(r.missedShare * 100).toFixed(2)}% | ${r.rssSteadyMeanMb.toFixed(0)} / ${r.rssSteadyPeakMb.toFixed(0)} MB | ${r.anonSteadyMeanMb.toFixed(0)} MB | ${r.rssStartupPeakMb.toFixed(0)} MB | ${r.isolates?.length ?? '?'} | ${r.cpuMsPerCheck.toFixed(2)} | ${r.cpuShare.toFixed(2)} | ${r.firstCheckSeconds.toFixed(1)} s | ${r.stopSeconds.toFixed(1)} s | ${r.load} |`,
  );
}
for (const role of roles) {
  const mine = results.filter((r) => r.role === role);
  const keeps = mine.filter((r) => r.missedShare <= 0.01 && r.onTime1s >= 0.99);
  console.log(
    `\n\`beacon ${role}\`: largest count that kept up (≥ 99% of due checks arrived, ≥ 99% of them within 1 s of their slot): ${keeps.length ? count(Math.max(...keeps.map((r) => r.n))) : 'none'}`,
  );
  const at20 = mine.find((r) => r.n === 20_000);
  if (at20)
    console.log(
      `\`beacon ${role}\` at 20,000 (issue 20): CPU ${at20.cpuMsPerCheck.toFixed(2)} ms/check (≤ 1.0), p99 at the target ${ms(at20.lateness.p99)} (≤ 100 ms), RSS ${at20.rssSteadyMeanMb.toFixed(0)} MB (≤ 100; anonymous ${at20.anonSteadyMeanMb.toFixed(0)} MB), start-up peak ${at20.rssStartupPeakMb.toFixed(0)} MB, first check ${at20.firstCheckSeconds.toFixed(1)} s (≤ 5 s)`,
    );
}
