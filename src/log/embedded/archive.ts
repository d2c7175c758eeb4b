import { constants, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import type { SqliteDatabase } from '../../sqlite/database.ts';
import type { Stream } from '../record.ts';

/**
 * The embedded log's upkeep, in small steps (each one short transaction, so a commit waits a few
 * milliseconds at most):
 *
 * - **Archive.** Chunks stay as they were committed for the hot window; then runs of them are merged
 *   into archive chunks of up to {@link ARCHIVE_RECORDS} records and zstd-compressed (codec 1). A
 *   consumer reads either kind alike, so replay and reprocessing reach the archive transparently.
 * - **Release.** A stream whose store keeps every record at full fidelity (checks) is not archived:
 *   its chunks go once the hot window is past and its sink has stored them.
 * - **Retention.** Chunks whose every record was received before the retention cutoff go.
 * - **Idempotency window.** Client keys older than the window go; a retry after it is a new record.
 *
 * A stream's newest chunk always stays: it carries the stream's end offset, so offsets never restart.
 */

/** Most records in an archive chunk: a consumer reads whole chunks, so this bounds its batch's overshoot. */
export const ARCHIVE_RECORDS = 1000;
/** Most text in an archive chunk before compression. */
const ARCHIVE_BYTES = 512 * 1024;
/** An archive chunk smaller than this (compressed) is extended by the next run rather than left small. */
const EXTEND_BELOW = 64 * 1024;
/**
 * zstd level of archive chunks: 3 compressed message chunks to within 10% of level 9 at three times
 * its speed (about 20 B a record from 190), which keeps a step to a few milliseconds.
 */
const ZSTD_LEVEL = 3;
/** Rows one step deletes at most. */
const DELETE_STEP = 2000;

/** Codec of a chunk's `records`: 0 the text a commit wrote (format 1 or 2), 1 zstd of format 2 text. */
export const TEXT = 0;
export const ZSTD = 1;

/** What one maintenance step is asked to do; times are epoch ms. */
export interface MaintenanceRequest {
  /** Chunks received before this are archived (or released). */
  readonly archiveBefore: number;
  /** Records received before this go (retention); 0 keeps them. */
  readonly expireBefore: number;
  /** Client idempotency keys received before this go. */
  readonly keysBefore: number;
  /** Per stream whose store keeps its records: the offset below which the store holds all of them. */
  readonly released: readonly (readonly [Stream, number])[];
}

/** What one step did; `done` when there was nothing left to do. */
export interface MaintenanceResult {
  /** Chunks merged into archive chunks, their records, and their bytes before and after. */
  readonly archived: { chunks: number; records: number; bytesIn: number; bytesOut: number };
  /** Chunks (and records) deleted because the store holds them. */
  readonly released: { chunks: number; records: number };
  /** Chunks (and records) deleted by retention. */
  readonly expired: { chunks: number; records: number };
  readonly keys: number;
  readonly done: boolean;
}

interface ChunkInfo {
  seq: number;
  first_offset: number;
  end_offset: number;
  received_at: number;
  codec: number;
  size: number;
}

/** A chunk's records as format 2 text (`{"r":[metas]}` then a body per line), whatever its codec and format. */
export function chunkText(records: string | Uint8Array): string {
  const text = typeof records === 'string' ? records : zstdDecompressSync(records).toString('utf8');
  if (text.charCodeAt(0) === 123) return text;
  // Format 1: one JSON array of [tenant, key, entity, id, ts, receivedAt, body] entries.
  const entries = JSON.parse(text) as unknown[][];
  const metas = entries.map((e) => JSON.stringify(e.slice(0, 6))).join(',');
  return `{"r":[${metas}]}\n${entries.map((e) => JSON.stringify(e[6] ?? null)).join('\n')}`;
}

/** Format 2 texts of consecutive chunks as one. */
function mergeTexts(texts: readonly string[]): string {
  const metas: string[] = [];
  const bodies: string[] = [];
  for (const text of texts) {
    const line = text.indexOf('\n');
    metas.push(text.slice('{"r":['.length, line - ']}'.length));
    bodies.push(text.slice(line + 1));
  }
  return `{"r":[${metas.join(',')}]}\n${bodies.join('\n')}`;
}

const none = { chunks: 0, records: 0 };

/** One step of upkeep (see the module's comment). Run it until `done`. */
export function maintainStep(db: SqliteDatabase, request: MaintenanceRequest): MaintenanceResult {
  const idle = {
    archived: { chunks: 0, records: 0, bytesIn: 0, bytesOut: 0 },
    released: none,
    expired: none,
    keys: 0,
  };
  const keys = deleteKeys(db, request.keysBefore);
  if (keys > 0) return { ...idle, keys, done: false };
  const newest = new Set(
    db
      .prepare<[], { seq: number }>(
        `SELECT c.seq FROM (SELECT stream, MAX(end_offset) AS end FROM chunks GROUP BY stream) e
         JOIN chunks c ON c.stream = e.stream AND c.end_offset = e.end`,
      )
      .all()
      .map((r) => r.seq),
  );
  if (request.expireBefore > 0) {
    const rows = db
      .prepare<[number, number], { seq: number; n: number }>(
        `SELECT seq, end_offset - first_offset AS n FROM chunks WHERE received_at < ? ORDER BY received_at LIMIT ?`,
      )
      .all(request.expireBefore, DELETE_STEP + newest.size)
      .filter((r) => !newest.has(r.seq));
    if (rows.length > 0) return { ...idle, expired: remove(db, rows), done: false };
  }
  for (const [stream, below] of request.released) {
    const rows = db
      .prepare<[string, number, number, number], { seq: number; n: number }>(
        `SELECT seq, end_offset - first_offset AS n FROM chunks
         WHERE stream = ? AND end_offset <= ? AND received_at < ? ORDER BY end_offset LIMIT ?`,
      )
      .all(stream, below, request.archiveBefore, DELETE_STEP + 1)
      .filter((r) => !newest.has(r.seq));
    if (rows.length > 0) return { ...idle, released: remove(db, rows), done: false };
  }
  const releasedBelow = new Map(request.released);
  const streams = db
    .prepare<[], { stream: Stream }>('SELECT DISTINCT stream FROM chunks WHERE codec = 0')
    .all();
  for (const { stream } of streams) {
    const archived = archive(db, stream, request.archiveBefore, releasedBelow.get(stream) ?? -Infinity);
    if (archived) return { ...idle, archived, done: false };
  }
  return { ...idle, done: !giveBack(db) };
}

/**
 * Gives freed pages back to the file system, a few megabytes a step, when the file was made with
 * incremental auto-vacuum (database.ts); true when it did.
 */
function giveBack(db: SqliteDatabase): boolean {
  if (db.pragma('auto_vacuum', { simple: true }) !== 2) return false;
  if ((db.pragma('freelist_count', { simple: true }) as number) === 0) return false;
  db.pragma(`incremental_vacuum(${DELETE_STEP})`);
  return true;
}

function deleteKeys(db: SqliteDatabase, before: number): number {
  return db
    .prepare<[number, number]>(
      `DELETE FROM idempotency_keys WHERE (tenant, stream, key) IN
         (SELECT tenant, stream, key FROM idempotency_keys WHERE received_at < ? ORDER BY received_at LIMIT ?)`,
    )
    .run(before, DELETE_STEP).changes;
}

function remove(
  db: SqliteDatabase,
  rows: readonly { seq: number; n: number }[],
): { chunks: number; records: number } {
  const del = db.prepare<[number]>('DELETE FROM chunks WHERE seq = ?');
  db.transaction(() => {
    for (const row of rows) del.run(row.seq);
  })();
  return { chunks: rows.length, records: rows.reduce((a, r) => a + r.n, 0) };
}

/**
 * Merges the oldest run of a stream's text chunks received before `before` (and past `released`,
 * whose chunks are about to go anyway) into one compressed archive chunk, extending a small archive
 * chunk that ends where the run begins. Returns undefined when there is no such run.
 */
function archive(
  db: SqliteDatabase,
  stream: Stream,
  before: number,
  released: number,
): MaintenanceResult['archived'] | undefined {
  // Stepped one row at a time and left at the first chunk the run cannot take: a run is one or two
  // commits' chunks, and reading all ARCHIVE_RECORDS rows (each chunk's whole text, for its length)
  // held the event loop for most of every step once a stream had thousands of chunks past the hot
  // window (at 10 million occupancy events, the API thread sat at 100% archiving).
  const hot = db
    .prepare<[string, number, number], ChunkInfo>(
      `SELECT seq, first_offset, end_offset, received_at, codec, length(records) AS size FROM chunks
       WHERE stream = ? AND codec = 0 AND end_offset > ? ORDER BY end_offset LIMIT ?`,
    )
    .iterate(stream, released, ARCHIVE_RECORDS);
  const run: ChunkInfo[] = [];
  let records = 0;
  let bytes = 0;
  for (const chunk of hot) {
    const n = chunk.end_offset - chunk.first_offset;
    if (chunk.received_at >= before) break;
    if (
      run.length > 0 &&
      (chunk.first_offset !== run.at(-1)!.end_offset ||
        records + n > ARCHIVE_RECORDS ||
        bytes + chunk.size > ARCHIVE_BYTES)
    )
      break;
    run.push(chunk);
    records += n;
    bytes += chunk.size;
  }
  if (run.length === 0) return undefined;
  const previous = db
    .prepare<[string, number], ChunkInfo>(
      `SELECT seq, first_offset, end_offset, received_at, codec, length(records) AS size FROM chunks
       WHERE stream = ? AND end_offset = ? AND codec = 1`,
    )
    .get(stream, run[0]!.first_offset);
  if (
    previous &&
    previous.size < EXTEND_BELOW &&
    previous.end_offset - previous.first_offset + records <= ARCHIVE_RECORDS
  )
    run.unshift(previous);
  const read = db.prepare<[number], { records: string | Uint8Array }>(
    'SELECT records FROM chunks WHERE seq = ?',
  );
  const text = mergeTexts(run.map((c) => chunkText(read.get(c.seq)!.records)));
  const compressed = zstdCompressSync(text, { params: { [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } });
  const del = db.prepare<[number]>('DELETE FROM chunks WHERE seq = ?');
  db.transaction(() => {
    for (const chunk of run) del.run(chunk.seq);
    db.prepare(
      'INSERT INTO chunks (stream, first_offset, end_offset, received_at, records, codec) VALUES (?, ?, ?, ?, ?, 1)',
    ).run(
      stream,
      run[0]!.first_offset,
      run.at(-1)!.end_offset,
      Math.max(...run.map((c) => c.received_at)),
      compressed,
    );
  })();
  const fresh = run.filter((c) => c.codec === TEXT);
  return {
    chunks: fresh.length,
    records: fresh.reduce((a, c) => a + c.end_offset - c.first_offset, 0),
    bytesIn: fresh.reduce((a, c) => a + c.size, 0) + (run[0]!.codec === ZSTD ? run[0]!.size : 0),
    bytesOut: compressed.length,
  };
}
