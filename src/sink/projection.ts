import type { LogRecord, Stream } from '../log/record.ts';
import type { StoreTx } from '../store/store.ts';

/**
 * Sink logic for one stream: turns records into rows. It must be idempotent by record key, because
 * after a crash the log offers again every record whose checkpoint had not committed.
 */
export interface Projection {
  readonly stream: Stream;
  /** Consumer group name; also the checkpoint's owner in the store. */
  readonly group: string;
  /** Writes the rows for `records`; returns how many rows were new. */
  apply(tx: StoreTx, records: readonly LogRecord[]): Promise<number>;
}
