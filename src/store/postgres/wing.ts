import type { Pool, PoolClient } from 'pg';
import type { TableUse } from '../storage.ts';
import type { MaintenanceOptions, MaintenanceReport } from '../store.ts';
import type { Queryable } from './errors.ts';
import type { PgMigration, TimeLayout } from './migrations.ts';
import type { DayPartitions } from './partitions.ts';

/** What an open PostgreSQL store gives a wing. */
export interface PostgresConnections {
  /** The pool with outages reported as STORE_UNAVAILABLE: what readers query. */
  readonly db: Queryable;
  /** The raw pool, for work that needs one connection of its own (a locked transaction). */
  readonly pool: Pool;
  /** Native partitions or TimescaleDB hypertables, as chosen when the schema was created. */
  readonly layout: TimeLayout;
}

/** One store transaction, as a wing's writers take part in it. */
export interface PostgresTx {
  /** The connection the transaction runs on. */
  readonly client: PoolClient;
  /** Runs before COMMIT, in registration order: writes a writer held back go out here. */
  beforeCommit(fn: () => Promise<void>): void;
  /** Runs once COMMIT succeeded (remember partitions made in the transaction). */
  afterCommit(fn: () => void): void;
  /** Runs when the transaction failed, with its error. */
  onFailure(fn: (err: unknown) => void): void;
  /**
   * Makes sure `partitions` has a partition for each of `days`, creating the missing ones in this
   * transaction (so they commit or roll back with the rows). They are remembered once it commits;
   * if it fails for want of a partition (another process dropped one), every cache is forgotten.
   */
  ensurePartitions(partitions: DayPartitions, days: Iterable<number>): Promise<void>;
  /**
   * Runs `create` (a `CREATE TEMP TABLE`) unless this connection made the temporary table `name`
   * already; true when it did it now. A failed transaction may have undone such a creation, so the
   * connection then forgets them all and the next use makes them again.
   */
  stage(name: string, create: string): Promise<boolean>;
}

/** A wing opened on one store: what it keeps for the store's lifetime. */
export interface OpenPostgresWing<R extends object, W extends object> {
  /** Members of the opened store. */
  readonly repositories: R;
  /** Members of one store transaction, made for each transaction. */
  writers(tx: PostgresTx): W;
  /**
   * Partition upkeep and retention, inside the store's maintenance transaction (which holds
   * PARTITION_LOCK). Wings without time-partitioned tables leave it out.
   */
  maintain?(client: PoolClient, options: MaintenanceOptions): Promise<MaintenanceReport>;
}

/** A domain's storage on PostgreSQL: its part of the schema, and how it opens on a store. */
export interface PostgresWing<R extends object, W extends object> {
  /** A name for its maintenance report. */
  readonly name: string;
  readonly migrations: readonly PgMigration[];
  open(connections: PostgresConnections): OpenPostgresWing<R, W>;
  /** Its tables in a storage report; a table it leaves out is reported under its own name. */
  readonly storage?: readonly TableUse[];
}
