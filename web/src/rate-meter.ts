/** Counts events in one-second buckets, for a rate over a trailing window. */
export class RateMeter {
  readonly #buckets: number[];
  /** The second (epoch s) the newest bucket counts. */
  #second = 0;

  constructor(windowSeconds: number) {
    this.#buckets = new Array<number>(windowSeconds).fill(0);
  }

  mark(count: number, now: number = Date.now()): void {
    const second = this.#advance(now);
    const i = second % this.#buckets.length;
    this.#buckets[i] = (this.#buckets[i] ?? 0) + count;
  }

  /** Events per second over the window. */
  rate(now: number = Date.now()): number {
    this.#advance(now);
    let sum = 0;
    for (const n of this.#buckets) sum += n;
    return sum / this.#buckets.length;
  }

  /** Zeroes the buckets of the seconds that passed without events. */
  #advance(now: number): number {
    const second = Math.floor(now / 1000);
    const passed = Math.min(second - this.#second, this.#buckets.length);
    for (let s = 1; s <= passed; s++) this.#buckets[(this.#second + s) % this.#buckets.length] = 0;
    if (second > this.#second) this.#second = second;
    return this.#second;
  }
}
