import type { NewRecord, Stream } from '../log/record.ts';
import { uuidv7 } from './ids.ts';

/** What a source hands over for one signal: a route, the prober, the notifier. */
export interface Signal {
  readonly tenant: string;
  readonly entity: string;
  /** Idempotency key; the record's id when the source has none. */
  readonly key?: string | undefined;
  /** Event time; defaults to the time of acceptance. */
  readonly ts?: number | undefined;
  readonly body: unknown;
  /** `body` as JSON, when the source already encoded it. */
  readonly bodyJson?: string | undefined;
}

/**
 * The one way a record is made: a UUIDv7 id (or the one given, for records whose id is their
 * identity, such as an incident change), the time it was accepted, and the signal's fields.
 */
export function newRecord(
  stream: Stream,
  signal: Signal,
  receivedAt: number,
  id = uuidv7(receivedAt),
): NewRecord {
  return {
    stream,
    tenant: signal.tenant,
    entity: signal.entity,
    key: signal.key ?? id,
    id,
    ts: signal.ts ?? receivedAt,
    receivedAt,
    body: signal.body,
    bodyJson: signal.bodyJson,
  };
}
