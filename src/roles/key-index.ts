import type { FirstRecord, KeyIndex } from '../ingest/key-index.ts';
import type { Stream } from '../log/record.ts';
import type { BeaconStore } from './store.ts';

/**
 * The store as ingest's key index, for logs that cannot check keys (Kafka): each stream whose store
 * keeps its records' client keys with their ids answers here. Messages do (`Idempotency-Key`);
 * sensor events and page views are deduplicated by their sinks' unique keys alone.
 */
export function storeKeyIndex(store: BeaconStore): KeyIndex {
  const readers: Partial<
    Record<Stream, (tenant: string, keys: readonly string[]) => Promise<Map<string, FirstRecord>>>
  > = {
    messages: (tenant, keys) => store.messages.firstOf(tenant, keys),
  };
  return {
    streams: new Set(Object.keys(readers) as Stream[]),
    firstOf: (stream, tenant, keys) => readers[stream]!(tenant, keys),
  };
}
