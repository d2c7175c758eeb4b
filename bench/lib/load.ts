import autocannon from 'autocannon';
import { count, ms, percent } from './format.ts';
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
}

export interface LoadResult {
  readonly label: string;
  /** Requests answered 2xx per second of the run. */
  readonly okPerSecond: number;
  readonly ok: number;
  /** Requests sent, including those still in flight when the run stopped. */
  readonly sent: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly p50: number;
  readonly p99: number;
  /** Server CPU over the run, as a share of one core: near 1 means the server is the bottleneck. */
  readonly serverCpu: number;
  /** The load generator's own CPU, as a share of one core. */
  readonly clientCpu: number;
}

/**
 * Runs autocannon in this process against the server child, with progress each second, and notes how
 * busy each side was so a reader can tell which one limited the figure.
 */
export async function runLoad(server: BenchServer, spec: LoadSpec): Promise<LoadResult> {
  step(`${spec.label}: ${spec.connections} connections for ${spec.seconds} s`);
  const progress = new Progress(spec.label, spec.seconds, ' s');
  const serverBefore = (await server.stats()).cpuMicros;
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  let answered = 0;
  let ticks = 0;
  const instance = autocannon({
    url: server.url + spec.path,
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': spec.contentType },
    body: spec.body,
    connections: spec.connections,
    duration: spec.seconds,
    timeout: 30,
    verifyBody: (body) => {
      spec.onBody?.(body);
      return true;
    },
  });
  instance.on('response', () => {
    answered += 1;
  });
  instance.on('tick', () => {
    ticks += 1;
    progress.update(Math.min(ticks, spec.seconds), `${count(answered)} answered`);
  });
  const result = await instance;
  const wall = (performance.now() - started) / 1000;
  const clientCpu = process.cpuUsage(clientBefore);
  const serverCpu = ((await server.stats()).cpuMicros - serverBefore) / 1e6 / wall;
  const ok = result['2xx'];
  const load: LoadResult = {
    label: spec.label,
    okPerSecond: ok / result.duration,
    ok,
    sent: result.requests.sent,
    non2xx: result.non2xx,
    errors: result.errors,
    p50: result.latency.p50,
    p99: result.latency.p99,
    serverCpu,
    clientCpu: (clientCpu.user + clientCpu.system) / 1e6 / wall,
  };
  progress.finish(
    spec.seconds,
    `${count(load.okPerSecond)} req/s, p50 ${ms(load.p50)}, p99 ${ms(load.p99)}; ` +
      `CPU: server ${percent(serverCpu, 1)}, load generator ${percent(load.clientCpu, 1)} of a core`,
  );
  if (load.non2xx > 0 || load.errors > 0) {
    const codes = Object.entries(result.statusCodeStats)
      .map(([code, { count: n }]) => `${code}×${count(n)}`)
      .join(', ');
    step(
      `warning: ${spec.label} had ${count(load.non2xx)} non-2xx answers (${codes}) and ${count(load.errors)} errors`,
    );
  }
  return load;
}
