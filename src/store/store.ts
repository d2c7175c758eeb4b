import type { Stream } from '../log/record.ts';
import type { StoragePart } from './storage.ts';

/** A consumer group's resume point for one partition of one stream. */
export interface Checkpoint {
  readonly group: string;
  readonly stream: Stream;
  readonly partition: number;
  /** Next offset to read. */
  readonly offset: number;
}

/**
 * A record a projection could not apply: kept with its error instead of holding up the records
 * behind it (the sink moves its checkpoint past it in the same transaction).
 */
export interface DeadLetter {
  readonly group: string;
  readonly stream: Stream;
  readonly partition: number;
  readonly offset: number;
  readonly tenant: string;
  /** The record's id and key. */
  readonly id: string;
  readonly key: string;
  /** Why the projection refused it (the error's message). */
  readonly error: string;
  /** The record in wire format v1, so it can be read, fixed and sent again. */
  readonly record: string;
  readonly failedAt: number;
}

/** Which dead letters to list: one tenant's, newest first, paged by (failedAt, group, stream, partition, offset). */
export interface DeadLetterQuery {
  readonly tenant: string;
  readonly limit: number;
  readonly stream?: Stream | undefined;
  readonly before?: Pick<DeadLetter, 'failedAt' | 'group' | 'stream' | 'partition' | 'offset'> | undefined;
}

/** What every store transaction offers besides its modules' writers: the sink's resume point. */
export interface CheckpointWriter {
  saveCheckpoint(checkpoint: Checkpoint): Promise<void>;
  /** Keeps a record its projection refused; it commits with the checkpoint that passes it. */
  saveDeadLetter(letter: DeadLetter): Promise<void>;
}

/**
 * The store engine: where projections live and queries read. Backends: `sqlite` (embedded default)
 * and `postgres`, chosen once at start-up. The engine knows no domain: each domain brings a store
 * wing per backend (`<domain>/store/`: its migrations, repositories and transaction writers; see
 * `sqlite/wing.ts` and `postgres/wing.ts`), and `roles/` hands the engine the wings it runs with.
 * Their repositories become members of the opened store (`store.monitor`, `store.tenants`…), and
 * their writers members of every transaction (`tx.checks`…): `W` is those writers.
 */
export interface Store<W extends object = object> {
  /** Which backend this is, for reports (`beacon setup`); no code branches on it. */
  readonly backend: 'sqlite' | 'postgres';
  /** Opens the store and applies pending migrations; returns the names applied. */
  open(): Promise<string[]>;
  /** Names of the migrations that were already applied when `open()` ran; `beacon setup` reports them. */
  readonly existing: readonly string[];
  checkpoints(group: string, stream: Stream): Promise<Checkpoint[]>;
  /** Records projections refused, one tenant's, newest first. */
  deadLetters(query: DeadLetterQuery): Promise<DeadLetter[]>;
  /** Forgets one dead letter (an operator dealt with it); false when there was none. */
  dismissDeadLetter(
    tenant: string,
    letter: Pick<DeadLetter, 'group' | 'stream' | 'partition' | 'offset'>,
  ): Promise<boolean>;
  /**
   * True when `err` may pass if the same work is tried again (the database is away, busy, out of
   * space): a sink then retries the batch. Any other error is the data's, and the record that causes
   * it is set aside as a dead letter.
   */
  retryable(err: unknown): boolean;
  /** Runs `fn` in one write transaction: all of its writes commit, or none do. */
  transaction<T>(fn: (tx: W & CheckpointWriter) => Promise<T>): Promise<T>;
  /** A cheap round trip, for readiness. */
  ping(): Promise<void>;
  /**
   * Bytes on disk per table (indexes included) and the records of each raw one, as the wings declare
   * them (`TableUse`). May take seconds on a large store, none of them on the caller's event loop.
   */
  storage(): Promise<StoragePart[]>;
  /**
   * Gives a few megabytes of pages that deletes freed back to the file system (SQLite made with
   * incremental auto-vacuum); returns how many pages, 0 when there are none or the backend reuses
   * them itself (PostgreSQL's autovacuum).
   */
  reclaim(): Promise<number>;
  close(): Promise<void>;
}

/** What one maintenance pass did to one wing's tables (PostgreSQL partitions and retention). */
export interface MaintenanceReport {
  /** Partitions created (native layout). */
  readonly created: readonly string[];
  /** Partitions or chunks dropped by retention. */
  readonly dropped: readonly string[];
  /** Idempotency keys deleted with the rows they guarded. */
  readonly keysDeleted: number;
}

/** What a maintenance pass is asked to do. */
export interface MaintenanceOptions {
  /** The time the pass runs as, epoch ms. */
  readonly now: number;
  /** Days of partitions to keep ready after today. */
  readonly ahead: number;
  /** Rows older than this many days go; 0 keeps everything. */
  readonly retentionDays: number;
}
