import type { Pool, PoolClient } from 'pg';
import type { MaintenanceOptions, MaintenanceReport } from '../store.ts';
import type { Queryable } from './errors.ts';
import type { PgMigration, TimeLayout } from './migrations.ts';

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
  /**
   * Runs when the transaction failed, with its error: a rollback may have undone a temporary
   * table's creation, and a missing partition means another process dropped it.
   */
  onFailure(fn: (err: unknown) => void): void;
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
}
