import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Store } from '../store/store.ts';
import type {
  CompactionCandidate,
  MonitorRepositories,
  MonitorWriters,
  TargetRef,
} from './store/repositories.ts';

/** Compaction's Prometheus metrics. */
export class CompactionMetrics {
  readonly checks: Counter;
  readonly blocks: Counter<'kind'>;
  readonly bytes: Counter;
  readonly steps: Histogram;
  readonly passes: Counter<'outcome'>;
  readonly pending: Gauge;
  readonly lastPass: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.checks = new Counter({
      name: 'beacon_compaction_checks_total',
      help: 'Checks moved from rows (hot or from before blocks) into compressed blocks.',
      registers,
    });
    this.blocks = new Counter({
      name: 'beacon_compaction_blocks_total',
      help: 'Blocks written, by kind: `period` for a closed period (the only kind written now; `hour`, an hour of a period still open, was written by earlier versions).',
      labelNames: ['kind'] as const,
      registers,
    });
    this.bytes = new Counter({
      name: 'beacon_compaction_block_bytes_total',
      help: 'Bytes of the blocks written.',
      registers,
    });
    this.steps = new Histogram({
      name: 'beacon_compaction_step_seconds',
      help: 'Time one compaction transaction (a batch of steps of one series and one range each, sized to a budget of a few ms) held the store.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.passes = new Counter({
      name: 'beacon_compaction_passes_total',
      help: 'Compaction passes over every series, by outcome (done or failed).',
      labelNames: ['outcome'] as const,
      registers,
    });
    this.pending = new Gauge({
      name: 'beacon_compaction_pending_series',
      help: 'Series with work left when the last pass looked at them: rows or hour blocks of periods that ended before the horizon.',
      registers,
    });
    this.lastPass = new Gauge({
      name: 'beacon_compaction_last_pass_timestamp_seconds',
      help: 'When the last complete compaction pass ended.',
      registers,
    });
  }
}

/** How far a pass has got. */
export interface CompactionProgress {
  readonly series: number;
  readonly of: number;
  /** Checks moved into blocks so far. */
  readonly checks: number;
  readonly blocks: number;
}

/** What a pass did. */
export interface CompactionResult {
  readonly series: number;
  readonly checks: number;
  readonly blocks: number;
  readonly bytes: number;
}

export interface CompactorOptions {
  readonly store: Store<MonitorWriters> & MonitorRepositories;
  /** Length of a block's period (aligned to the epoch, so 24 h is a UTC day). */
  readonly periodMs: number;
  readonly metrics?: CompactionMetrics | undefined;
  readonly logger: Logger;
}

/** Series asked for at once; each then takes its own steps. */
const PAGE = 500;

/** How long one transaction of compaction steps may hold the store before it commits (ms). */
const STEP_BUDGET_MS = 4;

/** Steps in the first batch, before their cost is known; and the most in one. */
const FIRST_BATCH = 1;
const MAX_BATCH = 256;

/** A series with a step to take. */
interface Work {
  readonly candidate: CompactionCandidate;
  readonly from: number;
  readonly to: number;
}

/**
 * Folds checks into blocks in steps of one series and one range each, taken in batches: a batch of
 * steps of distinct series is a few statements and one transaction, sized to hold the store at most
 * a few milliseconds, so a sink waits at most that and readers (on their own connection) not at all:
 *
 * a **period** (a day by default) that ended before the horizon becomes one block: its hot rows,
 * rows from before blocks, hour blocks (which earlier versions wrote for a period still open) and
 * late rows merged. A period still open waits in hot rows: each check is encoded once, with its
 * period, which is what keeps compaction at the speed of the codec (an hour block encoded each
 * check a second time, when its period closed).
 *
 * A check that arrives for a compacted range later (a redundant prober, a spool drained late) waits
 * in a hot row until the next pass merges it into the block.
 */
export class Compactor {
  readonly #o: CompactorOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #closed = false;
  /** Every target with rows from before blocks has its series (legacy rows never appear anew). */
  #adopted = false;
  /** What a step took lately (ms): how many the next batch takes. */
  #stepMs: number | undefined;

  constructor(options: CompactorOptions) {
    this.#o = options;
  }

  /**
   * One pass over every series: compacts what ended before `horizon` (epoch ms). Reports progress
   * after each batch of steps.
   */
  async run(horizon: number, onProgress?: (progress: CompactionProgress) => void): Promise<CompactionResult> {
    const { store, metrics } = this.#o;
    await this.#adoptLegacy();
    const of = await store.monitor.seriesCount();
    let series = 0;
    let checks = 0;
    let blocks = 0;
    let bytes = 0;
    let pending = 0;
    for (let after = 0; !this.#closed;) {
      const page = await store.transaction((tx) =>
        tx.checks.compactionCandidates(after, PAGE, this.#o.periodMs),
      );
      series += page.length;
      // Series with work, in id order; a series whose step is done is asked again (one statement for
      // the batch) and goes back at the end while it has more.
      const queue: Work[] = page.flatMap((c) => this.#work(c, horizon) ?? []);
      while (queue.length > 0 && !this.#closed) {
        const estimate = this.#stepMs;
        const size =
          estimate === undefined ? FIRST_BATCH : Math.floor(STEP_BUDGET_MS / Math.max(estimate, 1e-3));
        const batch = queue.splice(0, Math.min(MAX_BATCH, Math.max(1, size)));
        const started = performance.now();
        const next = await store.transaction(async (tx) => {
          const done = await tx.checks.compact(
            batch.map((w) => ({
              series: w.candidate.series.id,
              from: w.from,
              to: w.to,
            })),
          );
          done.forEach((d) => {
            if (!d) return;
            checks += d.moved;
            blocks += 1;
            bytes += d.bytes;
            metrics?.checks.inc(d.moved);
            metrics?.blocks.inc({ kind: 'period' });
            metrics?.bytes.inc(d.bytes);
          });
          // The batch's series again, to find their next range (its ids are a span of the page), if
          // one can have ended: what is left of a series starts at its step's end or later.
          const more = batch.filter((w) => this.#endAfter(w.to) <= horizon);
          if (more.length === 0) return [];
          const ids = more.map((w) => w.candidate.series.id);
          const first = Math.min(...ids);
          const last = Math.max(...ids);
          const span =
            page.findIndex((c) => c.series.id === last) - page.findIndex((c) => c.series.id === first) + 1;
          const fresh = new Map(
            (await tx.checks.compactionCandidates(first - 1, span, this.#o.periodMs)).map((c) => [
              c.series.id,
              c,
            ]),
          );
          return batch.flatMap((w, i) => {
            const c = fresh.get(w.candidate.series.id);
            const again = c && this.#work(c, horizon);
            if (!again) return [];
            // A step that changed nothing would be offered again: stop this series for this pass.
            if (!done[i] && again.from === w.from && again.to === w.to) {
              pending += 1;
              return [];
            }
            return [again];
          });
        });
        const took = performance.now() - started;
        this.#stepMs = took / batch.length;
        metrics?.steps.observe(took / 1000);
        onProgress?.({ series, of, checks, blocks });
        queue.push(...next);
      }
      if (page.length < PAGE) break;
      after = page.at(-1)!.series.id;
    }
    metrics?.pending.set(pending);
    // What the rows took is free now: give it back to the file system, a few megabytes a step.
    if (checks > 0) while (!this.#closed && (await store.reclaim()) > 0);
    return { series, checks, blocks, bytes };
  }

  /** The earliest end of a range that starts at `t` or later (#next's ranges): the period it is in. */
  #endAfter(t: number): number {
    return periodStart(t, this.#o.periodMs) + this.#o.periodMs;
  }

  /** The next step of a series before `horizon`, or undefined. */
  #work(candidate: CompactionCandidate, horizon: number): Work | undefined {
    const range = this.#next(candidate, horizon);
    return range && { candidate, from: range[0], to: range[1] };
  }

  /**
   * The next period of a series to compact, oldest first, or undefined when its oldest row or short
   * block is in a period that has not ended before `horizon` (that period stays hot until it has).
   */
  #next(c: CompactionCandidate, horizon: number): [from: number, to: number] | undefined {
    const periodMs = this.#o.periodMs;
    const starts = [c.oldestRow, c.interimStart].filter((t): t is number => t !== null);
    if (starts.length === 0) return undefined;
    const period = periodStart(Math.min(...starts), periodMs);
    return period + periodMs <= horizon ? [period, period + periodMs] : undefined;
  }

  /** Makes the series of targets that still have rows from before blocks, a target per transaction. */
  async #adoptLegacy(): Promise<void> {
    if (this.#adopted) return;
    let after: TargetRef | undefined;
    do {
      const from = after;
      after = await this.#o.store.transaction((tx) => tx.checks.adoptLegacy(from));
    } while (after && !this.#closed);
    this.#adopted = !this.#closed;
  }

  /**
   * Runs a pass when a period has ended `afterMs` ago (its checks become a block then), and otherwise
   * every `intervalMs`, to merge late checks into blocks of closed periods; passes never overlap.
   * While a period is open a pass finds nothing else to do, yet reads every series' candidate row
   * (about a microsecond a series), so passes in between are spaced by `intervalMs`, not run every
   * minute.
   */
  start(intervalMs: number, afterMs: number): void {
    const tick = () => {
      if (this.#closed) return;
      const started = performance.now();
      this.#running = this.run(Date.now() - afterMs)
        .then(
          (result) => {
            this.#o.metrics?.passes.inc({ outcome: 'done' });
            this.#o.metrics?.lastPass.set(Date.now() / 1000);
            if (result.checks > 0)
              this.#o.logger.info(
                { ...result, seconds: Math.round(performance.now() - started) / 1000 },
                'checks compacted',
              );
          },
          (err: unknown) => {
            this.#o.metrics?.passes.inc({ outcome: 'failed' });
            this.#o.logger.error({ err }, 'compaction pass failed; retried at the next');
          },
        )
        .finally(() => {
          if (!this.#closed) {
            this.#timer = setTimeout(tick, nextPassIn(Date.now(), intervalMs, afterMs, this.#o.periodMs));
            this.#timer.unref();
          }
        });
    };
    this.#timer = setTimeout(tick, Math.min(intervalMs, 1000));
    this.#timer.unref();
  }

  /** Stops after the step in hand. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}

/**
 * Milliseconds from `now` to the next background pass: `intervalMs`, or sooner when the open period
 * ends (plus `afterMs`) before that, so a closed period is compacted on time whatever the interval.
 */
export function nextPassIn(now: number, intervalMs: number, afterMs: number, periodMs: number): number {
  // The period whose pass is due next: the one that ended less than afterMs ago, or the open one.
  const due = periodStart(now - afterMs, periodMs) + periodMs + afterMs;
  return Math.max(1, Math.min(intervalMs, due - now + 1));
}

/** The start of the period (of `periodMs`, counted from the epoch) that `t` is in. */
function periodStart(t: number, periodMs: number): number {
  return Math.floor(t / periodMs) * periodMs;
}
