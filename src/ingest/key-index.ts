import type { Stream } from '../log/record.ts';

/** Where a key's first record is: what a retry is answered with. */
export interface FirstRecord {
  readonly id: string;
  readonly receivedAt: number;
}

/**
 * Keys clients chose, looked up where a log cannot check them itself. The embedded log checks keys in
 * its commit; Kafka cannot (a produce has no conditional write), so on Kafka ingest asks the store,
 * where a sink put the first record of each key. Chosen once, in `roles/`.
 */
export interface KeyIndex {
  /** The streams it can answer for; others rely on their sink's unique keys alone. */
  readonly streams: ReadonlySet<Stream>;
  /** The stored first record of each of these keys; keys never stored are absent. */
  firstOf(stream: Stream, tenant: string, keys: readonly string[]): Promise<Map<string, FirstRecord>>;
}
