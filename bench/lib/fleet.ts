import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { count, plural } from './format.ts';
import { Histogram, type HistogramJson } from './percentiles.ts';
import { note, Progress } from './progress.ts';

/** What the parent asks of a subscriber process (bench/subscribers.ts). */
export type FleetCommand =
  | {
      readonly type: 'open';
      readonly url: string;
      readonly token: string;
      readonly count: number;
      readonly wave: number;
    }
  | { readonly type: 'measure'; readonly stage: string }
  | { readonly type: 'report' }
  | { readonly type: 'close' };

/** What a subscriber process tells the parent. */
export type FleetEvent =
  | { readonly type: 'opening'; readonly open: number; readonly failed: number }
  | {
      readonly type: 'opened';
      readonly open: number;
      readonly failed: number;
      readonly error: string | undefined;
    }
  | { readonly type: 'report'; readonly report: ProcessReport };

/** One subscriber process's view since the last `measure`. */
export interface ProcessReport {
  /** Connections still open. */
  readonly open: number;
  /** Connections the server closed or lost since they opened. */
  readonly closed: number;
  /** Record frames of the stage being measured. */
  readonly received: number;
  /** Frames the server said it dropped (`{type:"dropped",count}`). */
  readonly dropped: number;
  /** Accept→delivery latency of each record frame, whole milliseconds. */
  readonly latency: HistogramJson;
  /** CPU time the process used, in microseconds. */
  readonly cpuMicros: number;
}

export interface FleetReport extends Omit<ProcessReport, 'latency'> {
  readonly latency: Histogram;
}

const ENTRY = fileURLToPath(new URL('../subscribers.ts', import.meta.url));
/** Connections each process opens at once; the next wave starts when they have all been greeted. */
const WAVE = 500;

/**
 * WebSocket subscribers spread over child processes, so receiving frames does not compete with the
 * server's event loop or the parent's. Connections are opened in waves, with progress.
 */
export class SubscriberFleet {
  readonly #children: ChildProcess[];
  /** Connections open in each process. */
  readonly #open: number[];

  /** Starts `processes` subscriber processes, holding no connections yet. */
  constructor(processes: number) {
    this.#children = Array.from({ length: processes }, () =>
      fork(ENTRY, [], { execArgv: [], stdio: ['ignore', 2, 2, 'ipc'] }),
    );
    this.#open = this.#children.map(() => 0);
  }

  get size(): number {
    return this.#open.reduce((a, b) => a + b, 0);
  }

  /** Opens connections until the fleet holds `total`, split evenly across the processes. */
  async grow(total: number, url: string, token: string): Promise<void> {
    const before = this.size;
    const adding = total - before;
    if (adding <= 0) return note(`holding ${plural(before, 'subscriber')} already`);
    const progress = new Progress(`opening ${plural(adding, 'subscriber')} (${count(total)} in all)`, adding);
    let failed = 0;
    const errors: string[] = [];
    await Promise.all(
      this.#children.map(async (child, i) => {
        const share =
          Math.floor(adding / this.#children.length) + (i < adding % this.#children.length ? 1 : 0);
        if (share === 0) return;
        const onProgress = (event: FleetEvent) => {
          if (event.type !== 'opening') return;
          this.#open[i] = event.open;
          progress.update(this.size - before);
        };
        child.on('message', onProgress);
        const done = await this.#ask(child, { type: 'open', url, token, count: share, wave: WAVE }, 'opened');
        child.off('message', onProgress);
        this.#open[i] = done.open;
        failed += done.failed;
        if (done.error !== undefined) errors.push(done.error);
      }),
    );
    progress.finish(this.size - before, failed > 0 ? `${count(failed)} failed (${errors[0]})` : undefined);
  }

  /** Starts counting frames of `stage` afresh in every process. */
  measure(stage: string): void {
    for (const child of this.#children) child.send({ type: 'measure', stage } satisfies FleetCommand);
  }

  /** Merges every process's report. */
  async report(): Promise<FleetReport> {
    const reports = await Promise.all(
      this.#children.map((child) => this.#ask(child, { type: 'report' }, 'report')),
    );
    const latency = new Histogram(1);
    let open = 0;
    let closed = 0;
    let received = 0;
    let dropped = 0;
    let cpuMicros = 0;
    for (const { report } of reports) {
      latency.merge(Histogram.fromJSON(report.latency));
      open += report.open;
      closed += report.closed;
      received += report.received;
      dropped += report.dropped;
      cpuMicros += report.cpuMicros;
    }
    return { open, closed, received, dropped, cpuMicros, latency };
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#children.map((child) => {
        if (child.exitCode !== null) return Promise.resolve();
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.send({ type: 'close' } satisfies FleetCommand);
        return exited;
      }),
    );
  }

  /** Sends a command and waits for the event of type `answer`. */
  #ask<K extends FleetEvent['type']>(
    child: ChildProcess,
    command: FleetCommand,
    answer: K,
  ): Promise<Extract<FleetEvent, { type: K }>> {
    return new Promise((resolve, reject) => {
      const onMessage = (event: FleetEvent) => {
        if (event.type !== answer) return;
        cleanup();
        resolve(event as Extract<FleetEvent, { type: K }>);
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`a subscriber process exited with code ${code}`));
      };
      const cleanup = () => {
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send(command);
    });
  }
}
