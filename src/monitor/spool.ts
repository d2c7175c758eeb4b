import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeRecord, encodeRecord, type NewRecord } from '../log/record.ts';

/**
 * A bounded on-disk queue for check records the log would not take. Records are kept in wire format
 * v1, one per line. Past `maxBytes` new records are refused (the caller counts them as dropped), so a
 * long outage costs bounded disk, never unbounded memory. Draining moves the file aside first, so
 * records spooled during a drain are never lost; resending is safe because log appends are
 * idempotent by key.
 */
export class Spool {
  readonly #file: string;
  readonly #draining: string;
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(options: { dir: string; maxBytes: number }) {
    mkdirSync(options.dir, { recursive: true });
    this.#file = join(options.dir, 'spool.ndjson');
    this.#draining = join(options.dir, 'spool.draining.ndjson');
    this.#maxBytes = options.maxBytes;
    for (const f of [this.#file, this.#draining]) if (existsSync(f)) this.#bytes += statSync(f).size;
  }

  /** Bytes waiting, including a drain in progress. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Appends what fits; returns how many records were refused for lack of room. */
  write(records: readonly NewRecord[]): number {
    let text = '';
    let refused = 0;
    for (const r of records) {
      const line = encodeRecord(r) + '\n';
      if (this.#bytes + Buffer.byteLength(text) + Buffer.byteLength(line) > this.#maxBytes) refused += 1;
      else text += line;
    }
    if (text !== '') {
      appendFileSync(this.#file, text);
      this.#bytes += Buffer.byteLength(text);
    }
    return refused;
  }

  /**
   * Sends spooled records in batches; stops at the first failure and keeps what was not confirmed.
   * Returns how many records were sent.
   */
  async drain(send: (records: NewRecord[]) => Promise<void>, batch = 1000): Promise<number> {
    if (!existsSync(this.#draining)) {
      if (!existsSync(this.#file)) return 0;
      renameSync(this.#file, this.#draining);
    }
    const lines = readFileSync(this.#draining, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    let sent = 0;
    for (let i = 0; i < lines.length; i += batch) {
      await send(lines.slice(i, i + batch).map(decodeRecord));
      sent += Math.min(batch, lines.length - i);
    }
    rmSync(this.#draining);
    this.#bytes = existsSync(this.#file) ? statSync(this.#file).size : 0;
    return sent;
  }
}
