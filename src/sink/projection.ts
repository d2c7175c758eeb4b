import type { Config } from '../config/schema.ts';
import type { DerivedFrame } from '../log/log.ts';
import type { LogRecord, Stream } from '../log/record.ts';
import type { Store, StoreTx } from '../store/store.ts';

/** What a projection may use besides its transaction. */
export interface ProjectionContext {
  readonly config: Readonly<Config>;
  /** The store, to read committed rows from in `afterCommit`. */
  readonly store: Store;
  /** Runs `fn` once the batch's transaction has committed (never if it rolled back). */
  afterCommit(fn: () => Promise<void>): void;
  /** Pushes frames derived from the batch to live subscribers. */
  publish(frames: readonly DerivedFrame[]): void;
  /** False when nobody would receive published frames, so they need not be computed. */
  listening(): boolean;
}

/**
 * Sink logic for one stream: turns records into rows. It must be idempotent by record key, because
 * after a crash the log offers again every record whose checkpoint had not committed.
 */
export interface Projection {
  readonly stream: Stream;
  /** Consumer group name; also the checkpoint's owner in the store. */
  readonly group: string;
  /** Writes the rows for `records`; returns how many rows were new. */
  apply(tx: StoreTx, records: readonly LogRecord[], context: ProjectionContext): Promise<number>;
  /**
   * Deletes every row the projection made, so that replay can rebuild them from the log. A
   * projection without it cannot be replayed.
   */
  reset?(tx: StoreTx): Promise<void>;
}
