import type { Stream } from '../log/record.ts';
import type { Columns } from './columns.ts';
import type { DeadLetter } from './store.ts';

/** A `dead_letters` row as either driver returns it. */
export interface DeadLetterRow {
  readonly consumer_group: string;
  readonly stream: string;
  readonly partition: unknown;
  readonly offset: unknown;
  readonly tenant: string;
  readonly record_id: string;
  readonly key: string;
  readonly error: string;
  readonly record: string;
  readonly failed_at: unknown;
}

export const toDeadLetter = (r: DeadLetterRow, c: Columns): DeadLetter => ({
  group: r.consumer_group,
  stream: r.stream as Stream,
  partition: c.int(r.partition),
  offset: c.int(r.offset),
  tenant: r.tenant,
  id: r.record_id,
  key: r.key,
  error: r.error,
  record: r.record,
  failedAt: c.int(r.failed_at),
});

/** The columns of a dead letter, in the order both backends insert them. */
export const deadLetterValues = (d: DeadLetter): unknown[] => [
  d.group,
  d.stream,
  d.partition,
  d.offset,
  d.tenant,
  d.id,
  d.key,
  d.error,
  d.record,
  d.failedAt,
];

export const DEAD_LETTER_COLUMNS =
  'consumer_group, stream, partition, "offset", tenant, record_id, key, error, record, failed_at';

/** Newest first; the keyset of a page's last row is where the next page starts. */
export const DEAD_LETTER_ORDER =
  'failed_at DESC, consumer_group DESC, stream DESC, partition DESC, "offset" DESC';
export const DEAD_LETTER_KEY = '(failed_at, consumer_group, stream, partition, "offset")';
