import { BeaconError } from '../errors/catalog.ts';

interface Waiter<T, R> {
  readonly items: readonly T[];
  readonly resolve: (results: R[]) => void;
  readonly reject: (err: unknown) => void;
}

export interface GroupCommitOptions {
  /** Most items that may wait for a commit; past it, submit rejects with LOG_BUSY. */
  readonly maxQueue: number;
  /** Told after each commit how many items it carried and how long it took. */
  readonly onCommit?: (items: number, seconds: number) => void;
}

/**
 * Shares one transaction among all concurrent submitters. Items wait at most until the current event
 * loop turn ends; then a single `commit` call writes them all and every submitter is answered at once.
 * This is what makes a durable (fsync per commit) single-item write cheap under concurrency.
 */
export class GroupCommit<T, R> {
  readonly #commit: (items: readonly T[]) => R[];
  readonly #options: GroupCommitOptions;
  #waiters: Waiter<T, R>[] = [];
  #queued = 0;
  #scheduled = false;
  #closed = false;

  /** @param commit writes all items in one transaction, returning one result per item, in order. */
  constructor(commit: (items: readonly T[]) => R[], options: GroupCommitOptions) {
    this.#commit = commit;
    this.#options = options;
  }

  /** Items waiting for the next commit. */
  get queued(): number {
    return this.#queued;
  }

  submit(items: readonly T[]): Promise<R[]> {
    if (this.#closed) return Promise.reject(new BeaconError('SHUTTING_DOWN'));
    if (this.#queued + items.length > this.#options.maxQueue) {
      return Promise.reject(new BeaconError('LOG_BUSY', undefined, { retryAfter: 1 }));
    }
    return new Promise<R[]>((resolve, reject) => {
      this.#waiters.push({ items, resolve, reject });
      this.#queued += items.length;
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits everything waiting now. Called by the scheduler, and by close() to drain. */
  flush(): void {
    this.#scheduled = false;
    const waiters = this.#waiters;
    if (waiters.length === 0) return;
    this.#waiters = [];
    this.#queued = 0;
    const items = waiters.length === 1 ? waiters[0]!.items : waiters.flatMap((w) => w.items);
    const started = performance.now();
    let results: R[];
    try {
      results = this.#commit(items);
    } catch (cause) {
      const err = new BeaconError('LOG_UNAVAILABLE', undefined, { cause, retryAfter: 1 });
      for (const waiter of waiters) waiter.reject(err);
      return;
    }
    this.#options.onCommit?.(items.length, (performance.now() - started) / 1000);
    let at = 0;
    for (const waiter of waiters) {
      waiter.resolve(results.slice(at, at + waiter.items.length));
      at += waiter.items.length;
    }
  }

  /** Refuses new items and commits the ones already submitted. */
  close(): void {
    this.#closed = true;
    this.flush();
  }
}
