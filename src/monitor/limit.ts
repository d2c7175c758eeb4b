/**
 * Bounds how many checks run at once, overall and per host, so the prober stays polite to each site
 * and within its own sockets. Waiters are served in arrival order per host.
 */
export class ConcurrencyLimit {
  readonly #global: number;
  readonly #perHost: number;
  #running = 0;
  readonly #byHost = new Map<string, number>();
  readonly #waiting: { host: string; start: () => void }[] = [];

  constructor(options: { global: number; perHost: number }) {
    this.#global = options.global;
    this.#perHost = options.perHost;
  }

  /** Checks running now. */
  get running(): number {
    return this.#running;
  }

  /** Checks waiting for a free place. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Whether `host` has as many checks running as the per-host limit allows. */
  hostFull(host: string): boolean {
    return (this.#byHost.get(host) ?? 0) >= this.#perHost;
  }

  /** Runs `task` once a place is free for its host, and frees the place when it settles. */
  run<T>(host: string, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.#running += 1;
        this.#byHost.set(host, (this.#byHost.get(host) ?? 0) + 1);
        task()
          .then(resolve, reject)
          .finally(() => this.#release(host));
      };
      if (this.#free(host)) start();
      else this.#waiting.push({ host, start });
    });
  }

  #free(host: string): boolean {
    return this.#running < this.#global && (this.#byHost.get(host) ?? 0) < this.#perHost;
  }

  #release(host: string): void {
    this.#running -= 1;
    const n = this.#byHost.get(host)! - 1;
    if (n === 0) this.#byHost.delete(host);
    else this.#byHost.set(host, n);
    // Start the oldest waiters that now fit; a waiter blocked by its host does not block others.
    for (let i = 0; i < this.#waiting.length && this.#running < this.#global;) {
      const waiter = this.#waiting[i]!;
      if (this.#free(waiter.host)) {
        this.#waiting.splice(i, 1);
        waiter.start();
      } else i++;
    }
  }
}
