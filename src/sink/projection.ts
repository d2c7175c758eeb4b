import type { Config } from '../config/schema.ts';
import type { DerivedFrame } from '../log/log.ts';
import type { LogRecord, Stream } from '../log/record.ts';
import type { Store } from '../store/store.ts';

/** What a projection may use besides its transaction; `R` is the repositories it reads. */
export interface ProjectionContext<R = unknown> {
  readonly config: Readonly<Config>;
  /** The store's repositories, to read committed rows from in `afterCommit`. */
  readonly store: R;
  /** Runs `fn` once the batch's transaction has committed (never if it rolled back). */
  afterCommit(fn: () => Promise<void>): void;
  /** Pushes frames derived from the batch to live subscribers. */
  publish(frames: readonly DerivedFrame[]): void;
  /** False when nobody would receive published frames, so they need not be computed. */
  listening(): boolean;
}

/**
 * Sink logic for one stream: turns records into rows. It must be idempotent by record key, because
 * after a crash the log offers again every record whose checkpoint had not committed. `W` is the
 * transaction writers it uses (`{ checks: CheckWriter }`…), `R` the repositories it reads.
 */
export interface Projection<W extends object = object, R = unknown> {
  readonly stream: Stream;
  /** Consumer group name; also the checkpoint's owner in the store. */
  readonly group: string;
  /** Writes the rows for `records`; returns how many rows were new. */
  apply(tx: W, records: readonly LogRecord[], context: ProjectionContext<R>): Promise<number>;
  /**
   * Deletes every row the projection made, so that replay can rebuild them from the log. A
   * projection without it cannot be replayed.
   */
  reset?(tx: W): Promise<void>;
  /**
   * Rebuilds what the projection derives from the raw records its own store keeps at full fidelity,
   * for as long as the store keeps them (longer than the log does). When present, replay uses it
   * instead of the log, and the checkpoint stays where it is. Returns the records it read.
   */
  rebuild?(store: Store<W> & R, onProgress?: (progress: RebuildProgress) => void): Promise<number>;
}

/** How far a rebuild has got. */
export interface RebuildProgress {
  /** Records read so far. */
  readonly records: number;
  /** Share of the work done, 0 to 1. */
  readonly fraction: number;
}
