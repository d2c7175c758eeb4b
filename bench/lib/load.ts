import autocannon from 'autocannon';
import { count, ms, percent } from './format.ts';
import { Histogram } from './percentiles.ts';
import { Progress, step } from './progress.ts';
import type { BenchServer } from './server.ts';

/** One closed-loop HTTP load: `connections` clients each sending the same request back to back. */
export interface LoadSpec {
  readonly label: string;
  readonly path: string;
  readonly contentType: string;
  readonly body: string;
  readonly connections: number;
  readonly seconds: number;
  /** Sees each response body, e.g. to collect the ids of accepted messages. */
  readonly onBody?: (body: string) => void;
  /** Further request headers (a browser's User-Agent for /v1/collect, say). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** What one autocannon run measured. */
export interface LoadRun {
  readonly label: string;
  /** Requests answered 2xx. */
  readonly ok: number;
  /** Requests sent, including those still in flight when the run stopped. */
  readonly sent: number;
  readonly seconds: number;
  /** Latency of the 2xx answers, in milliseconds. */
  readonly latency: Histogram;
  readonly serverCpuSeconds: number;
  readonly clientCpuSeconds: number;
}

/** Runs of one spec, combined. */
export interface LoadSummary {
  readonly label: string;
  readonly okPerSecond: number;
  readonly ok: number;
  readonly sent: number;
  readonly p50: number;
  readonly p99: number;
  /** Server CPU as a share of one core: near 1 means the server is the bottleneck. */
  readonly serverCpu: number;
  /** The load generator's own CPU, as a share of one core. */
  readonly clientCpu: number;
}

/**
 * Runs autocannon in this process against the server child, with progress each second, and notes how
 * busy each side was so a reader can tell which one limited the figure.
 */
export async function runLoad(server: BenchServer, spec: LoadSpec): Promise<LoadRun> {
  const progress = new Progress(`${spec.label} (${spec.connections} connections)`, spec.seconds, ' s');
  const serverBefore = (await server.stats()).cpuMicros;
  const clientBefore = process.cpuUsage();
  const latency = new Histogram(0.1);
  let answered = 0;
  let ticks = 0;
  const instance = autocannon({
    url: server.url + spec.path,
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': spec.contentType, ...spec.headers },
    body: spec.body,
    connections: spec.connections,
    duration: spec.seconds,
    timeout: 30,
    verifyBody: (body) => {
      spec.onBody?.(body);
      return true;
    },
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, milliseconds: number) => {
    answered += 1;
    if (status >= 200 && status < 300) latency.record(milliseconds);
  });
  instance.on('tick', () => {
    ticks += 1;
    progress.update(Math.min(ticks, spec.seconds), `${count(answered)} answered`);
  });
  const result = await instance;
  const client = process.cpuUsage(clientBefore);
  const run: LoadRun = {
    label: spec.label,
    ok: result['2xx'],
    sent: result.requests.sent,
    seconds: result.duration,
    latency,
    serverCpuSeconds: ((await server.stats()).cpuMicros - serverBefore) / 1e6,
    clientCpuSeconds: (client.user + client.system) / 1e6,
  };
  const summary = summarize([run]);
  progress.finish(
    spec.seconds,
    `${count(summary.okPerSecond)} req/s, p50 ${ms(summary.p50)}, p99 ${ms(summary.p99)}; ` +
      `CPU: server ${percent(summary.serverCpu, 1)}, load generator ${percent(summary.clientCpu, 1)} of a core`,
  );
  if (result.non2xx > 0 || result.errors > 0) {
    const codes = Object.entries(result.statusCodeStats)
      .map(([code, { count: n }]) => `${code}×${count(n)}`)
      .join(', ');
    step(
      `warning: ${spec.label} had ${count(result.non2xx)} non-2xx answers (${codes}) and ${count(result.errors)} errors`,
    );
  }
  return run;
}

/** Combines runs of the same spec: rates over their total time, percentiles over all their answers. */
export function summarize(runs: readonly LoadRun[]): LoadSummary {
  const latency = new Histogram(0.1);
  let ok = 0;
  let sent = 0;
  let seconds = 0;
  let serverCpu = 0;
  let clientCpu = 0;
  for (const run of runs) {
    latency.merge(run.latency);
    ok += run.ok;
    sent += run.sent;
    seconds += run.seconds;
    serverCpu += run.serverCpuSeconds;
    clientCpu += run.clientCpuSeconds;
  }
  return {
    label: runs[0]?.label ?? '',
    okPerSecond: ok / seconds,
    ok,
    sent,
    p50: latency.percentile(50),
    p99: latency.percentile(99),
    serverCpu: serverCpu / seconds,
    clientCpu: clientCpu / seconds,
  };
}

/**
 * Runs each spec for half its time in order, then again in reverse order (A B C C B A), and combines
 * the halves. On a shared machine, load that comes or goes during the sequence then weighs on every
 * spec about equally instead of on whichever ran last.
 */
export async function interleave(
  server: BenchServer | readonly BenchServer[],
  specs: readonly LoadSpec[],
): Promise<LoadSummary[]> {
  step(`${specs.map((s) => s.label).join(', ')}: interleaved, each in two halves (A B … B A)`);
  // One server for every spec, or one per spec (to compare configurations side by side).
  const serverOf = (i: number) =>
    Array.isArray(server) ? (server as BenchServer[])[i]! : (server as BenchServer);
  const runs = new Map<LoadSpec, LoadRun[]>(specs.map((s) => [s, []]));
  const order = [...specs.keys(), ...[...specs.keys()].reverse()];
  for (const i of order) {
    const spec = specs[i]!;
    runs.get(spec)!.push(await runLoad(serverOf(i), { ...spec, seconds: spec.seconds / 2 }));
  }
  return specs.map((spec) => summarize(runs.get(spec)!));
}
