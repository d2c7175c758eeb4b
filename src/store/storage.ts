import type { Stream } from '../log/record.ts';
import type { StorageTier } from '../log/storage-part.ts';

export type { StoragePart, StorageTier } from '../log/storage-part.ts';

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
  /** The same on PostgreSQL, where its rows are not what SQLite's are (`records` when absent). */
  readonly postgresRecords?: string;
}
