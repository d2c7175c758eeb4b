import type { AnalyticsReader, AnalyticsWriter } from '../analytics/analytics.ts';
import type { Stream } from '../log/record.ts';
import type { MessageReader, MessageWriter } from '../messages/message.ts';
import type { OccupancyReader, OccupancyWriter } from '../occupancy/model.ts';
import type { CheckWriter, MonitorReader, TargetWriter } from '../monitor/check.ts';
import type { TenantRepository } from '../tenants/tenant.ts';

/** A consumer group's resume point for one partition of one stream. */
export interface Checkpoint {
  readonly group: string;
  readonly stream: Stream;
  readonly partition: number;
  /** Next offset to read. */
  readonly offset: number;
}

/** The writes a sink makes in one transaction: its rows and its checkpoint commit together. */
export interface StoreTx {
  readonly messages: MessageWriter;
  readonly occupancy: OccupancyWriter;
  readonly analytics: AnalyticsWriter;
  readonly checks: CheckWriter;
  saveCheckpoint(checkpoint: Checkpoint): Promise<void>;
}

/**
 * Where projections live and queries read. Backends: `sqlite` (embedded default) and `postgres`.
 * Chosen once at start-up; no domain code asks which one it has.
 */
export interface Store {
  readonly backend: 'sqlite' | 'postgres';
  /** Opens the store and applies pending migrations; returns the names applied. */
  open(): Promise<string[]>;
  /** Names of the migrations that were already applied when `open()` ran; `beacon setup` reports them. */
  readonly existing: readonly string[];
  readonly tenants: TenantRepository;
  readonly messages: MessageReader;
  readonly occupancy: OccupancyReader;
  readonly analytics: AnalyticsReader;
  /** Monitor targets, checks and rollups. */
  readonly monitor: MonitorReader;
  readonly targets: TargetWriter;
  checkpoints(group: string, stream: Stream): Promise<Checkpoint[]>;
  /** Runs `fn` in one write transaction: all of its writes commit, or none do. */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /** A cheap round trip, for readiness. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
