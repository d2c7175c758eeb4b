import type { Stream } from './record.ts';

/**
 * What a table holds for a storage report (`beacon storage`, `GET /v1/storage`): raw records as
 * written (`hot`), raw records compacted (`compacted`), or what is derived from them (`derived`:
 * rollups, indexes of their own, states).
 */
export type StorageTier = 'hot' | 'compacted' | 'derived';

/** A table (or a part of the log) as measured: its bytes on disk, indexes included, and its records. */
export interface StoragePart {
  readonly stream: Stream | null;
  readonly tier: StorageTier | 'log';
  readonly label: string;
  readonly bytes: number;
  /** Records it holds, for raw tiers and the log; null where that means nothing (derived tables). */
  readonly records: number | null;
}
