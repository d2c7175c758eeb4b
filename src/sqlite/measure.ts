import { Worker } from 'node:worker_threads';

/** What to measure in one SQLite file: every table's pages, and the rows of each query. */
export interface MeasureRequest {
  readonly file: string;
  readonly queries: readonly string[];
}

/** Bytes per table (its indexes counted with it) and each query's rows, in request order. */
export interface Measured {
  readonly tables: Record<string, number>;
  readonly rows: Record<string, unknown>[][];
}

/**
 * Measures a SQLite file on a worker thread with a read-only connection of its own: `dbstat` walks
 * every page of the file, seconds on a large one, which must not hold an event loop that serves
 * requests (or commits).
 */
export function measureSqlite(request: MeasureRequest): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./measure-thread.ts', import.meta.url), { workerData: request });
    worker.once('message', (message: Measured | { error: string }) => {
      if ('error' in message) reject(new Error(`measuring ${request.file} failed: ${message.error}`));
      else resolve(message);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the measuring thread exited with code ${code}`)));
  });
}
