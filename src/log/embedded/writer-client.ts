import { Worker } from 'node:worker_threads';
import type { SqliteDatabase } from '../../sqlite/database.ts';
import { maintainStep, type MaintenanceRequest, type MaintenanceResult } from './archive.ts';
import { ChunkWriter, type CommitResult, type EncodedBatch } from './chunk-writer.ts';
import type { FromWriter, ToWriter } from './writer-thread.ts';

/** The writer thread's module, beside this one: .ts among the sources, .mjs in the probe's bundle. */
const WRITER_THREAD = new URL(
  import.meta.url.endsWith('.ts') ? './writer-thread.ts' : './writer-thread.mjs',
  import.meta.url,
);

interface Pending {
  readonly resolve: (result: CommitResult & MaintenanceResult) => void;
  readonly reject: (err: Error) => void;
}

/** Runs the log's commits and upkeep steps: on a writer thread, or inline on the event loop. */
export interface LogWriter {
  /** True once a commit has run; a log that never appends never starts a thread. */
  readonly started: boolean;
  commit(batch: EncodedBatch): Promise<CommitResult>;
  /** One step of upkeep (archive.ts `maintainStep`). */
  maintain(request: MaintenanceRequest): Promise<MaintenanceResult>;
  close(): Promise<void>;
}

/**
 * Commits on the event loop's own connection (`embeddedLog.writerThread: false`): the loop waits for
 * each fsync, but no commit waits for another thread to be scheduled, which wins on a machine whose
 * cores are oversubscribed.
 */
export class InlineWriter implements LogWriter {
  readonly #db: SqliteDatabase;
  readonly #writer: ChunkWriter;
  started = false;

  constructor(db: SqliteDatabase) {
    this.#db = db;
    this.#writer = new ChunkWriter(db);
  }

  commit(batch: EncodedBatch): Promise<CommitResult> {
    this.started = true;
    try {
      return Promise.resolve(this.#writer.commit(batch));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  maintain(request: MaintenanceRequest): Promise<MaintenanceResult> {
    try {
      return Promise.resolve(maintainStep(this.#db, request));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The event loop's handle on the log's writer thread. A thread that dies fails the commits in flight
 * (their submitters get LOG_UNAVAILABLE and nothing was acknowledged) and is started afresh by the
 * next commit.
 */
export class WriterClient implements LogWriter {
  readonly #file: string;
  readonly #cacheMiB: number | undefined;
  #worker: Promise<Worker> | undefined;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;

  constructor(file: string, cacheMiB?: number) {
    this.#file = file;
    this.#cacheMiB = cacheMiB;
  }

  /** Starts the thread and waits until its connection is open. */
  start(): Promise<void> {
    return this.#thread().then(() => undefined);
  }

  /** True once the thread was started (by a commit); a log that never appends never starts one. */
  get started(): boolean {
    return this.#worker !== undefined;
  }

  commit(batch: EncodedBatch): Promise<CommitResult> {
    return this.#call((id) => ({ type: 'commit', id, batch }));
  }

  /** One step of upkeep, on the thread (archive.ts `maintainStep`). */
  maintain(request: MaintenanceRequest): Promise<MaintenanceResult> {
    return this.#call((id) => ({ type: 'maintain', id, request }));
  }

  async #call(message: (id: number) => ToWriter): Promise<CommitResult & MaintenanceResult> {
    const worker = await this.#thread();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage(message(id));
    });
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (!worker) return;
    const w = await worker.catch(() => undefined);
    if (!w) return;
    const exited = new Promise((resolve) => w.once('exit', resolve));
    w.postMessage({ type: 'close' } satisfies ToWriter);
    await exited;
  }

  #thread(): Promise<Worker> {
    this.#worker ??= new Promise<Worker>((resolve, reject) => {
      const worker = new Worker(WRITER_THREAD, {
        workerData: { file: this.#file, cacheMiB: this.#cacheMiB },
      });
      worker.on('message', (message: FromWriter) => {
        if (message.type === 'ready') return resolve(worker);
        const pending = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.type !== 'failed') pending?.resolve(message.result as CommitResult & MaintenanceResult);
        else pending?.reject(new Error(`log commit failed: ${message.message}`));
      });
      worker.on('error', reject);
      worker.on('exit', (code) => {
        reject(new Error(`log writer thread exited with code ${code}`));
        for (const pending of this.#pending.values())
          pending.reject(new Error(`log writer thread exited with code ${code}`));
        this.#pending.clear();
        if (this.#worker) this.#worker = undefined;
      });
    });
    return this.#worker;
  }
}
