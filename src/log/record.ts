import { BeaconError } from '../errors/catalog.ts';
import { isoTime } from '../wire/time.ts';

/**
 * The record: what every accepted signal becomes, and the versioned wire format (v1) that carries it
 * through any log. docs/wire-format.md describes the same bytes for consumers in other languages.
 */
export const STREAMS = ['messages', 'checks', 'pageviews', 'sensor-events'] as const;
export type Stream = (typeof STREAMS)[number];

export const WIRE_VERSION = 1;

/** A record as ingest hands it to the log. */
export interface NewRecord {
  readonly stream: Stream;
  readonly tenant: string;
  /** Idempotency key, unique per (tenant, stream): a second record with the same key is the same record. */
  readonly key: string;
  /** Partition key within the tenant (target, site, sensor…); order holds per tenant+entity. */
  readonly entity: string;
  /** UUIDv7 assigned at acceptance. */
  readonly id: string;
  /** Event time, epoch milliseconds. */
  readonly ts: number;
  /** When Beacon accepted it, epoch milliseconds. */
  readonly receivedAt: number;
  readonly body: unknown;
  /**
   * `body` already encoded as JSON, when ingest had it (a batch measures each message's size by
   * encoding it); encoders splice it in instead of encoding the body a second time.
   */
  readonly bodyJson?: string | undefined;
}

/** A record's body as JSON: the encoding ingest already made, or a new one. */
export function bodyJsonOf(record: NewRecord): string {
  return record.bodyJson ?? JSON.stringify(record.body ?? null);
}

/**
 * What a log checks of each record when it is appended, before the record joins a commit shared
 * with other clients' records: its times are finite and its body encodes as JSON. A record that
 * fails is refused alone (RECORD_INVALID, 400) and nothing else is touched; one found only while
 * the shared commit is written would fail every record in it. Returns the records with their bodies
 * encoded, so the commit does not encode them again.
 */
export function prepareRecords(records: readonly NewRecord[]): readonly NewRecord[] {
  let prepared: NewRecord[] | undefined;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    if (!Number.isFinite(record.ts) || !Number.isFinite(record.receivedAt)) {
      throw new BeaconError('RECORD_INVALID', `record ${i}: its time is not a finite number`);
    }
    if (record.bodyJson !== undefined) continue;
    let bodyJson: string;
    try {
      bodyJson = JSON.stringify(record.body ?? null);
    } catch (cause) {
      throw new BeaconError('RECORD_INVALID', `record ${i}: its body cannot be encoded as JSON`, { cause });
    }
    prepared ??= records.slice();
    prepared[i] = { ...record, bodyJson };
  }
  return prepared ?? records;
}

/** A record once the log holds it: where it sits. */
export interface LogRecord extends NewRecord {
  readonly partition: number;
  readonly offset: number;
}

/** What the log answers for each appended record. */
export interface Appended {
  readonly id: string;
  readonly receivedAt: number;
  /** True when the key was already in the log: this is the first record's answer, nothing new was stored. */
  readonly duplicate: boolean;
}

interface WireV1 {
  v: 1;
  stream: Stream;
  tenant: string;
  key: string;
  entity: string;
  id: string;
  ts: string;
  receivedAt: string;
  body: unknown;
}

/** Encodes a record as wire format v1: UTF-8 JSON with ISO 8601 UTC times. */
export function encodeRecord(record: NewRecord): string {
  const wire: Omit<WireV1, 'body'> = {
    v: WIRE_VERSION,
    stream: record.stream,
    tenant: record.tenant,
    key: record.key,
    entity: record.entity,
    id: record.id,
    ts: isoTime(record.ts),
    receivedAt: isoTime(record.receivedAt),
  };
  // `body` goes last, spliced in as JSON, so a body ingest already encoded is not encoded again.
  return `${JSON.stringify(wire).slice(0, -1)},"body":${bodyJsonOf(record)}}`;
}

/** Why a record could not be decoded; sinks send such records to the dead-letter topic with it. */
export class RecordDecodeError extends Error {
  override readonly name = 'RecordDecodeError';
}

const isString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/** Decodes wire format v1, checking every field; throws RecordDecodeError with the reason. */
export function decodeRecord(text: string): NewRecord {
  let wire: Partial<WireV1>;
  try {
    wire = JSON.parse(text) as Partial<WireV1>;
  } catch (cause) {
    throw new RecordDecodeError(`not JSON: ${(cause as Error).message}`);
  }
  if (typeof wire !== 'object' || wire === null) throw new RecordDecodeError('not an object');
  if (wire.v !== WIRE_VERSION) throw new RecordDecodeError(`unsupported wire version ${String(wire.v)}`);
  if (!STREAMS.includes(wire.stream as Stream))
    throw new RecordDecodeError(`unknown stream ${String(wire.stream)}`);
  for (const field of ['tenant', 'key', 'entity', 'id', 'ts', 'receivedAt'] as const) {
    if (!isString(wire[field])) throw new RecordDecodeError(`missing or empty ${field}`);
  }
  const ts = Date.parse(wire.ts!);
  const receivedAt = Date.parse(wire.receivedAt!);
  if (Number.isNaN(ts) || Number.isNaN(receivedAt))
    throw new RecordDecodeError('ts or receivedAt is not a time');
  return {
    stream: wire.stream!,
    tenant: wire.tenant!,
    key: wire.key!,
    entity: wire.entity!,
    id: wire.id!,
    ts,
    receivedAt,
    body: wire.body,
  };
}
