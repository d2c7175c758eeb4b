import type { SqliteDatabase } from '../../sqlite/database.ts';
import { bodyJsonOf, STREAMS, type NewRecord, type Stream } from '../record.ts';

/** Most records in one chunk; a consumer reads whole chunks, so this bounds its overshoot of maxBatch. */
export const CHUNK_RECORDS = 1000;

/** A record with a key its client chose: [index in the commit, tenant, key, id, receivedAt]. */
export type KeyedRecord = [index: number, tenant: string, clientKey: string, id: string, receivedAt: number];

/**
 * A commit's records, encoded on the event loop. It crosses to the writer thread as two strings and a
 * few typed arrays: a structured clone of a thousand strings cost the event loop a fifth of a batch.
 *
 * A chunk (format 2) is a line of metadata, `{"r":[[tenant, key (null when it is the id), entity,
 * id, ts, receivedAt], …]}`, then each record's body as JSON, one per line. A reader takes the bodies
 * as text without parsing them: a message is stored as the text it came as. Format 1 chunks, one JSON
 * array of `[…metadata, body]` entries, are still read.
 */
export interface EncodedBatch {
  /** Every record's metadata entry, joined by commas: a run of records is one slice. */
  readonly meta: string;
  /** Where each record's metadata entry ends in `meta`; the next one starts one character later. */
  readonly metaEnds: Int32Array;
  /** Every record's body as JSON, one per line. */
  readonly bodies: string;
  /** Where each record's body ends in `bodies`; the next one starts one character later. */
  readonly bodyEnds: Int32Array;
  /** Each record's stream, as its index in STREAMS. */
  readonly streams: Uint8Array;
  readonly receivedAt: Float64Array;
  /** The records whose client chose their key; only they can be duplicates. */
  readonly keyed: KeyedRecord[];
}

/** A record's body as one line of JSON. */
function bodyLine(record: NewRecord): string {
  const json = bodyJsonOf(record);
  // Text a client sent (a pretty-printed batch item) may hold newlines between its tokens.
  return json.includes('\n') ? JSON.stringify(JSON.parse(json)) : json;
}

export interface CommitResult {
  /** Offset given to each record, in order; -1 for a duplicate that was not stored again. */
  readonly offsets: Int32Array;
  /** For each duplicate, what the record first stored under its key was answered: [index, id, receivedAt]. */
  readonly firsts: [index: number, id: string, receivedAt: number][];
}

/** An id written into JSON as it is: UUIDs and the like need no escaping. */
const PLAIN_ID = /^[\w.:-]*$/;

/**
 * Encodes records for {@link ChunkWriter.commit}. Records of `keyless` streams keep the key their
 * source gave them, but the log neither indexes nor checks it: their store deduplicates by it.
 */
export function encodeBatch(records: readonly NewRecord[], keyless?: ReadonlySet<Stream>): EncodedBatch {
  const n = records.length;
  const bodies: string[] = new Array<string>(n);
  const metaEnds = new Int32Array(n);
  const bodyEnds = new Int32Array(n);
  const streams = new Uint8Array(n);
  const receivedAt = new Float64Array(n);
  const keyed: KeyedRecord[] = [];
  // A commit's records mostly share a tenant, an entity and their times, and have no client key: a
  // run of them is `before` + id + `after` each, written as one join of their ids.
  const pieces: string[] = [];
  let runIds: string[] = [];
  let before = '';
  let after = '';
  const endRun = () => {
    if (runIds.length > 0) pieces.push(`${before}${runIds.join(`${after},${before}`)}${after}`);
    runIds = [];
  };
  let tenant: string | undefined;
  let entity: string | undefined;
  let ts = NaN;
  let at = NaN;
  let lastStream: Stream | undefined;
  let streamIndex = 0;
  let metaLength = -1;
  let bodyLength = -1;
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    if (r.ts !== ts || r.receivedAt !== at || r.tenant !== tenant || r.entity !== entity) {
      // Written as text: a NaN would make the whole chunk unreadable, so it fails this commit instead.
      if (!Number.isFinite(r.ts) || !Number.isFinite(r.receivedAt)) {
        throw new RangeError(`record ${r.id} has a time that is not a finite number`);
      }
      endRun();
      ({ ts, receivedAt: at, tenant, entity } = r);
      before = `[${JSON.stringify(tenant)},null,${JSON.stringify(entity)},"`;
      after = `",${ts},${at}]`;
    }
    if (r.stream !== lastStream) streamIndex = STREAMS.indexOf((lastStream = r.stream));
    streams[i] = streamIndex;
    receivedAt[i] = r.receivedAt;
    if (r.key === r.id && PLAIN_ID.test(r.id)) {
      runIds.push(r.id);
      metaLength += before.length + r.id.length + after.length + 1;
    } else {
      endRun();
      let key = 'null';
      if (r.key !== r.id) {
        if (!keyless?.has(r.stream)) keyed.push([i, r.tenant, r.key, r.id, r.receivedAt]);
        key = JSON.stringify(r.key);
      }
      const meta = `[${JSON.stringify(r.tenant)},${key},${JSON.stringify(r.entity)},${JSON.stringify(r.id)},${r.ts},${r.receivedAt}]`;
      pieces.push(meta);
      metaLength += meta.length + 1;
    }
    metaEnds[i] = metaLength;
    const body = bodyLine(r);
    bodies[i] = body;
    bodyEnds[i] = bodyLength += body.length + 1;
  }
  endRun();
  return {
    meta: pieces.join(','),
    metaEnds,
    bodies: bodies.join('\n'),
    bodyEnds,
    streams,
    receivedAt,
    keyed,
  };
}

/** Text of records first..last (inclusive) of a joined string, given where each ends. */
function run(text: string, ends: Int32Array, first: number, last: number): string {
  return text.slice(first === 0 ? 0 : ends[first - 1]! + 1, ends[last]);
}

/** A format 2 chunk from its records' metadata entries (comma-joined) and bodies (one per line). */
function chunkText(metas: string, bodies: string): string {
  return `{"r":[${metas}]}\n${bodies}`;
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
    this.#commit = db.transaction((batch: EncodedBatch) => {
      const { streams, receivedAt, keyed } = batch;
      const n = streams.length;
      const offsets = new Int32Array(n);
      const firsts: CommitResult['firsts'] = [];
      for (const [i, tenant, clientKey, id, at] of keyed) {
        const stream = STREAMS[streams[i]!]!;
        if (claimKey.get(tenant, stream, clientKey, id, at)) continue;
        const first = firstOf.get(tenant, stream, clientKey)!;
        firsts.push([i, first.id, first.received_at]);
        offsets[i] = -1;
      }
      const { meta, metaEnds, bodies, bodyEnds } = batch;
      for (let s = 0; s < STREAMS.length; s++) {
        const indexes: number[] = [];
        for (let i = 0; i < n; i++) if (streams[i] === s && offsets[i] !== -1) indexes.push(i);
        if (indexes.length === 0) continue;
        const stream = STREAMS[s]!;
        let offset = endOf.get(stream)!.end ?? 1;
        for (let at = 0; at < indexes.length; at += CHUNK_RECORDS) {
          const chunk = indexes.slice(at, at + CHUNK_RECORDS);
          // Usually every record of the commit is new and of one stream: its entries are one slice.
          const first = chunk[0]!;
          const last = chunk.at(-1)!;
          const text =
            last - first === chunk.length - 1
              ? chunkText(run(meta, metaEnds, first, last), run(bodies, bodyEnds, first, last))
              : chunkText(
                  chunk.map((i) => run(meta, metaEnds, i, i)).join(','),
                  chunk.map((i) => run(bodies, bodyEnds, i, i)).join('\n'),
                );
          insertChunk.run(stream, offset, offset + chunk.length, receivedAt[first]!, text);
          for (const i of chunk) offsets[i] = offset++;
        }
      }
      return { offsets, firsts };
    });
  }

  commit(batch: EncodedBatch): CommitResult {
    return this.#commit(batch);
  }
}
