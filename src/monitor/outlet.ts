import type { Logger } from 'pino';
import type { Log } from '../log/log.ts';
import type { NewRecord } from '../log/record.ts';
import type { MonitorMetrics } from './metrics.ts';
import type { Spool } from './spool.ts';

export interface OutletOptions {
  readonly log: Log;
  readonly spool: Spool;
  readonly metrics: MonitorMetrics;
  readonly logger: Logger;
  /** Records held in memory while an append is in flight; beyond it they go to the spool. */
  readonly maxPending: number;
  /** How often to retry the log while the spool holds records. */
  readonly retryMs: number;
  /**
   * How long finished checks gather before one append. Each append is a durable commit (an fsync
   * with the embedded log, which blocks the event loop), so fewer, larger commits keep the schedule
   * on time: at 20,000 targets a minute, 200 ms makes about 67 checks per commit and 5 commits a second.
   */
  readonly flushMs: number;
}

/**
 * Where the prober's check records leave: appended to the log in batches (one append in flight at a
 * time, so a slow log cannot pile up requests). When the log refuses or fails, records spill to the
 * spool and are replayed, oldest first, once an append succeeds again.
 */
export class CheckOutlet {
  readonly #o: OutletOptions;
  #pending: NewRecord[] = [];
  #busy: Promise<void> | undefined;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: OutletOptions) {
    this.#o = options;
    this.#o.metrics.spoolBytes.set(this.#o.spool.bytes);
    if (this.#o.spool.bytes > 0) this.#scheduleRetry();
  }

  push(record: NewRecord): void {
    if (this.#pending.length >= this.#o.maxPending) {
      this.#spill([record]);
      return;
    }
    this.#pending.push(record);
    this.#busy ??= this.#pump();
  }

  async #pump(): Promise<void> {
    for (;;) {
      await new Promise((r) => setTimeout(r, this.#o.flushMs));
      if (this.#pending.length === 0) break;
      const batch = this.#pending;
      this.#pending = [];
      try {
        if (this.#o.spool.bytes > 0) {
          // Keep order: spooled records go first, and the new batch waits in the spool behind them.
          this.#spill(batch);
          await this.#drain();
        } else {
          await this.#o.log.append(batch);
        }
      } catch (err) {
        this.#o.logger.warn(
          { err: (err as Error).message, records: batch.length },
          'log unavailable; spooling checks',
        );
        this.#spill(batch);
        this.#scheduleRetry();
      }
    }
    this.#busy = undefined;
  }

  async #drain(): Promise<void> {
    const sent = await this.#o.spool.drain(async (records) => {
      await this.#o.log.append(records);
    });
    this.#o.metrics.spoolBytes.set(this.#o.spool.bytes);
    if (sent > 0) this.#o.logger.info({ records: sent }, 'spooled checks delivered');
  }

  #spill(records: readonly NewRecord[]): void {
    if (records.length === 0) return;
    const refused = this.#o.spool.write(records);
    this.#o.metrics.spooled.inc(records.length - refused);
    if (refused > 0) {
      this.#o.metrics.spoolDropped.inc(refused);
      this.#o.logger.error({ dropped: refused }, 'spool full: checks dropped');
    }
    this.#o.metrics.spoolBytes.set(this.#o.spool.bytes);
  }

  #scheduleRetry(): void {
    if (this.#retry || this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (this.#busy) return this.#scheduleRetry();
      this.#busy = this.#drain()
        .catch(() => this.#scheduleRetry())
        .finally(() => {
          this.#busy = undefined;
          if (this.#pending.length > 0) this.#busy = this.#pump();
        });
    }, this.#o.retryMs);
  }

  /** Delivers what is pending (or spools it) and stops retrying; the spool survives for next start. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    while (this.#busy) await this.#busy;
  }
}
