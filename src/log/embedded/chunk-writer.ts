import type { SqliteDatabase } from '../../sqlite/database.ts';
import { bodyJsonOf, type Appended, type NewRecord, type Stream } from '../record.ts';

/** Most records in one chunk; a consumer reads whole chunks, so this bounds its overshoot of maxBatch. */
export const CHUNK_RECORDS = 1000;

/** What the writer needs of one record; the record itself is already encoded as its chunk entry. */
export type RecordMeta = [
  stream: Stream,
  tenant: string,
  clientKey: string | null,
  id: string,
  receivedAt: number,
];

/** A commit's records, encoded on the event loop so that only strings cross to the writer thread. */
export interface EncodedBatch {
  readonly meta: RecordMeta[];
  /** Each record's chunk entry as JSON: [tenant, key (null when it is the id), entity, id, ts, receivedAt, body]. */
  readonly json: string[];
}

export interface CommitResult {
  readonly answers: Appended[];
  /** Offset given to each record, in order; -1 for a duplicate that was not stored again. */
  readonly offsets: number[];
}

/** Encodes records for {@link ChunkWriter.commit}. */
export function encodeBatch(records: readonly NewRecord[]): EncodedBatch {
  const meta: RecordMeta[] = [];
  const json: string[] = [];
  // A commit's records mostly share a tenant and an entity: each is quoted once, not once per record.
  const quoted = new Map<string, string>();
  const quote = (text: string) => {
    let q = quoted.get(text);
    if (q === undefined) quoted.set(text, (q = JSON.stringify(text)));
    return q;
  };
  for (const r of records) {
    const clientKey = r.key === r.id ? null : r.key;
    meta.push([r.stream, r.tenant, clientKey, r.id, r.receivedAt]);
    const key = clientKey === null ? 'null' : JSON.stringify(clientKey);
    // Written as text below: a NaN would make the whole chunk unreadable, so it fails this commit instead.
    if (!Number.isFinite(r.ts) || !Number.isFinite(r.receivedAt)) {
      throw new RangeError(`record ${r.id} has a time that is not a finite number`);
    }
    json.push(
      `[${quote(r.tenant)},${key},${quote(r.entity)},${JSON.stringify(r.id)},${r.ts},${r.receivedAt},${bodyJsonOf(r)}]`,
    );
  }
  return { meta, json };
}

/**
 * Writes encoded records into the log file in one transaction: each stream's new records become
 * chunks of up to {@link CHUNK_RECORDS} with contiguous offsets; a record whose client key was seen
 * before is answered with the first record's id and not stored.
 */
export class ChunkWriter {
  readonly #commit: (batch: EncodedBatch) => CommitResult;

  constructor(db: SqliteDatabase) {
    const insertChunk = db.prepare<[string, number, number, number, string]>(
      'INSERT INTO chunks (stream, first_offset, end_offset, received_at, records) VALUES (?, ?, ?, ?, ?)',
    );
    const endOf = db.prepare<[string], { end: number | null }>(
      'SELECT MAX(end_offset) AS end FROM chunks WHERE stream = ?',
    );
    const claimKey = db.prepare<[string, string, string, string, number], { id: string }>(
      `INSERT INTO idempotency_keys (tenant, stream, key, id, received_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING RETURNING id`,
    );
    const firstOf = db.prepare<[string, string, string], { id: string; received_at: number }>(
      'SELECT id, received_at FROM idempotency_keys WHERE tenant = ? AND stream = ? AND key = ?',
    );
    this.#commit = db.transaction(({ meta, json }: EncodedBatch): CommitResult => {
      const answers: Appended[] = [];
      const offsets: number[] = [];
      const byStream = new Map<Stream, number[]>();
      for (let i = 0; i < meta.length; i++) {
        const [stream, tenant, clientKey, id, receivedAt] = meta[i]!;
        if (clientKey !== null && !claimKey.get(tenant, stream, clientKey, id, receivedAt)) {
          const first = firstOf.get(tenant, stream, clientKey)!;
          answers.push({ id: first.id, receivedAt: first.received_at, duplicate: true });
          offsets.push(-1);
          continue;
        }
        answers.push({ id, receivedAt, duplicate: false });
        offsets.push(0);
        let list = byStream.get(stream);
        if (!list) byStream.set(stream, (list = []));
        list.push(i);
      }
      for (const [stream, indexes] of byStream) {
        let offset = endOf.get(stream)!.end ?? 1;
        for (let at = 0; at < indexes.length; at += CHUNK_RECORDS) {
          const chunk = indexes.slice(at, at + CHUNK_RECORDS);
          // Usually every record of the commit is new and of one stream: its entries are one slice.
          const first = chunk[0]!;
          const contiguous = chunk.at(-1)! - first === chunk.length - 1;
          const entries = contiguous ? json.slice(first, first + chunk.length) : chunk.map((i) => json[i]);
          const body = `[${entries.join(',')}]`;
          insertChunk.run(stream, offset, offset + chunk.length, meta[chunk[0]!]![4], body);
          for (const i of chunk) offsets[i] = offset++;
        }
      }
      return { answers, offsets };
    });
  }

  commit(batch: EncodedBatch): CommitResult {
    return this.#commit(batch);
  }
}

/** What one retention sweep deleted. */
export interface SweepResult {
  readonly chunks: number;
  readonly records: number;
  readonly keys: number;
}

const SWEEP_STEP = 2000;

/**
 * Deletes chunks and client idempotency keys received before `before`, oldest first, in short
 * transactions so appends are not held up. A stream's newest chunk is always kept: it carries the
 * stream's end offset, so offsets never restart even when everything else has expired.
 */
export function sweep(db: SqliteDatabase, before: number): SweepResult {
  const oldest = db.prepare<[number, number], { seq: number; n: number }>(
    `SELECT seq, end_offset - first_offset AS n FROM chunks
     WHERE received_at < ? AND seq NOT IN (SELECT MAX(seq) FROM chunks GROUP BY stream)
     ORDER BY seq LIMIT ?`,
  );
  const remove = db.prepare<[number]>('DELETE FROM chunks WHERE seq = ?');
  const removeKeys = db.prepare<[number, number]>(
    `DELETE FROM idempotency_keys WHERE (tenant, stream, key) IN
       (SELECT tenant, stream, key FROM idempotency_keys WHERE received_at < ? ORDER BY received_at LIMIT ?)`,
  );
  let chunks = 0;
  let records = 0;
  let keys = 0;
  for (;;) {
    const rows = oldest.all(before, SWEEP_STEP);
    if (rows.length === 0) break;
    db.transaction(() => {
      for (const row of rows) remove.run(row.seq);
    })();
    chunks += rows.length;
    for (const row of rows) records += row.n;
  }
  for (;;) {
    const removed = removeKeys.run(before, SWEEP_STEP).changes;
    keys += removed;
    if (removed < SWEEP_STEP) break;
  }
  return { chunks, records, keys };
}
