import { BeaconError } from '../errors/catalog.ts';

interface Waiter<T, R> {
  readonly items: readonly T[];
  /** The items' weight (`GroupCommitOptions.weigh`), 0 when commits are not bounded by it. */
  readonly weight: number;
  readonly resolve: (results: R[]) => void;
  readonly reject: (err: unknown) => void;
}

export interface GroupCommitOptions<T = unknown> {
  /** Most items that may wait for a commit; past it, submit rejects with LOG_BUSY. */
  readonly maxQueue: number;
  /** Told after each commit how many items it carried and how long it took. */
  readonly onCommit?: (items: number, seconds: number) => void;
  /**
   * Commits that may be out at once (default 1). A commit that runs elsewhere in order (a writer
   * thread) can take 2: the next one is encoded and queued while the disk syncs the last, so
   * neither the event loop nor the writer waits for the other.
   */
  readonly maxInFlight?: number;
  /**
   * What an item weighs (its bytes), with `maxWeight`: a commit takes waiting submissions until the
   * next would take it past `maxWeight` (the first is always taken, whatever it weighs). A commit
   * that runs on the event loop holds it for as long as it writes, so this bounds that time; the
   * next commit starts on a later turn, after requests waiting meanwhile.
   */
  readonly weigh?: (item: T) => number;
  readonly maxWeight?: number;
}

/**
 * Shares one transaction among all concurrent submitters. One commit is in flight at a time (or
 * `maxInFlight`); items submitted meanwhile wait for it to finish and then go together in the next
 * one, and every submitter is answered when its commit is durable. This is what makes a durable (fsync per commit)
 * single-item write cheap under concurrency, and the commit can run off the event loop.
 */
export class GroupCommit<T, R> {
  readonly #commit: (items: readonly T[]) => R[] | Promise<R[]>;
  readonly #options: GroupCommitOptions<T>;
  #waiters: Waiter<T, R>[] = [];
  #queued = 0;
  #scheduled = false;
  readonly #inFlight = new Set<Promise<void>>();
  #closed = false;

  /** @param commit writes all items in one transaction, returning one result per item, in order. */
  constructor(commit: (items: readonly T[]) => R[] | Promise<R[]>, options: GroupCommitOptions<T>) {
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
    const weigh = this.#options.weigh;
    let weight = 0;
    if (weigh) for (const item of items) weight += weigh(item);
    return new Promise<R[]>((resolve, reject) => {
      this.#waiters.push({ items, weight, resolve, reject });
      this.#queued += items.length;
      this.#schedule();
    });
  }

  /** Starts a commit at the end of this event-loop turn, unless one is running or due. */
  #schedule(): void {
    if (this.#scheduled || this.#full || this.#waiters.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  get #full(): boolean {
    return this.#inFlight.size >= (this.#options.maxInFlight ?? 1);
  }

  /** Commits everything waiting now; the next commit is scheduled when one in flight ends. */
  #flush(): void {
    if (this.#waiters.length === 0 || this.#full) return;
    const waiters = this.#take();
    for (const waiter of waiters) this.#queued -= waiter.items.length;
    const items = waiters.length === 1 ? waiters[0]!.items : waiters.flatMap((w) => w.items);
    const started = performance.now();
    const commit = (async () => {
      let results: R[];
      try {
        results = await this.#commit(items);
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
    })().finally(() => {
      this.#inFlight.delete(commit);
      this.#schedule();
    });
    this.#inFlight.add(commit);
    // Waiters left by maxWeight go next, on a later turn, in this commit's wake or beside it.
    this.#schedule();
  }

  /** The waiters the next commit carries: all of them, or as many as `maxWeight` allows. */
  #take(): Waiter<T, R>[] {
    const all = this.#waiters;
    const max = this.#options.maxWeight;
    let take = all.length;
    if (max !== undefined) {
      let weight = all[0]!.weight;
      take = 1;
      while (take < all.length && weight + all[take]!.weight <= max) weight += all[take++]!.weight;
    }
    if (take === all.length) {
      this.#waiters = [];
      return all;
    }
    return all.splice(0, take);
  }

  /** Refuses new items and resolves once the ones already submitted are committed (or failed). */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#inFlight.size > 0 || this.#waiters.length > 0) {
      this.#flush();
      await Promise.all(this.#inFlight);
    }
  }
}
