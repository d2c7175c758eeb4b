import type { Stream } from '../log/record.ts';

/**
 * What a table holds for a storage report (`beacon storage`, `GET /v1/storage`): raw records as
 * written (`hot`), raw records compacted (`compacted`), or what is derived from them (`derived`:
 * rollups, indexes of their own, states).
 */
export type StorageTier = 'hot' | 'compacted' | 'derived';

/** How a domain's table counts in a storage report; a wing declares one per table it owns. */
export interface TableUse {
  readonly table: string;
  /** The stream whose records it holds or derives from; null for the rest (targets, tenants…). */
  readonly stream: Stream | null;
  readonly tier: StorageTier;
  /** What it is, for people: "check blocks", "minute, hour and day rollups"… */
  readonly label: string;
  /** For raw tiers: SQL answering one row whose column `n` is how many records the table holds. */
  readonly records?: string;
}

/** A table (or a part of the log) as measured: its bytes on disk, indexes included, and its records. */
export interface StoragePart {
  readonly stream: Stream | null;
  readonly tier: StorageTier | 'log';
  readonly label: string;
  readonly bytes: number;
  /** Records it holds, for raw tiers and the log; null where that means nothing (derived tables). */
  readonly records: number | null;
}
