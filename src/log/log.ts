import type { StoragePart } from './storage-part.ts';
import type { Appended, LogRecord, NewRecord, Stream } from './record.ts';

/** Where a consumer resumes: the next offset to read, per partition. */
export type Positions = ReadonlyMap<number, number>;

/**
 * A run of records from one partition of one stream, in offset order. It may be empty when every
 * record in the range was undecodable and went to the dead-letter topic; storing its checkpoint then
 * moves the consumer past them.
 */
export interface RecordBatch {
  readonly stream: Stream;
  readonly partition: number;
  readonly records: readonly LogRecord[];
  /** The offset to resume from once this batch is stored (last offset + 1). */
  readonly nextOffset: number;
}

export interface ConsumeOptions {
  /** Consumer group: members share partitions; the store keeps the group's positions. */
  readonly group: string;
  readonly stream: Stream;
  readonly maxBatch: number;
  /** Asked on every assignment: where to resume each partition (usually the store's checkpoint). */
  position(partitions: readonly number[]): Promise<Positions>;
  /** Stores one batch. A throw means nothing was stored; the batch is offered again after a backoff. */
  handle(batch: RecordBatch): Promise<void>;
}

/** A running consumer. `close()` waits for the batch in hand to finish. */
export interface Consumer {
  close(): Promise<void>;
}

export type TailListener = (records: readonly LogRecord[]) => void;

/** A frame derived from records (a space's new count, say), pushed to subscribers of its stream and entity. */
export interface DerivedFrame {
  readonly tenant: string;
  readonly stream: Stream;
  readonly entity: string;
  /** The serialized JSON frame. */
  readonly frame: string;
}

export type DerivedListener = (frames: readonly DerivedFrame[]) => void;

/**
 * The durable, ordered log that sits between ingest and the sinks. Backends: `embedded` (SQLite on
 * local disk, in-process) and `kafka`.
 */
export interface Log {
  /** Which backend this is, for reports; no code branches on it. */
  readonly backend: 'embedded' | 'kafka';
  /**
   * True when `append` itself answers a key it already holds with the first record (the embedded
   * log, in its commit). Where it is false (Kafka), ingest asks a key index in the store instead.
   */
  readonly checksKeys: boolean;
  open(): Promise<void>;
  /**
   * Appends records durably. The promise resolves only once every record is committed (fsync, or
   * acks=all); it rejects with LOG_BUSY or LOG_UNAVAILABLE when nothing was accepted.
   */
  append(records: readonly NewRecord[]): Promise<Appended[]>;
  /** Runs a consumer-group member that hands batches to `handle` until closed. */
  consume(options: ConsumeOptions): Consumer;
  /** The next offset to be written in each partition of a stream; consumers' lag is measured against it. */
  endOffsets(stream: Stream): Promise<Positions>;
  /** Resolves when the log answers (Kafka: the broker serves the stream topics); `/readyz` asks it. */
  ping(): Promise<void>;
  /** Calls `listener` with every record committed from now on, for the live hub. */
  tail(listener: TailListener): () => void;
  /**
   * Hands frames a sink derived (live counts) to every process tailing them, wherever the sink runs.
   * Best effort and not durable: a lost frame leaves a live figure late, never wrong, since every
   * figure is read from the store.
   */
  publishDerived(frames: readonly DerivedFrame[]): void;
  /** Calls `listener` with derived frames published from now on, by this process or another. */
  tailDerived(listener: DerivedListener): () => void;
  /**
   * Bytes on disk per stream (hot and archived) and the records they hold, when the log is on this
   * machine's disk; a broker's logs are measured by the broker.
   */
  storage?(): Promise<StoragePart[]>;
  /** Stops accepting appends, waits for those in flight, and releases resources. */
  close(): Promise<void>;
}
