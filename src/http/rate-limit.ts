/**
 * Per-key token buckets: each key may burst up to `burst` requests, then sustain `perSecond`.
 * Chosen over a fixed window (what @fastify/rate-limit implements), which lets a client send twice
 * its limit across a window edge.
 */
export class TokenBuckets {
  readonly #perSecond: number;
  readonly #burst: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(options: { perSecond: number; burst: number }) {
    this.#perSecond = options.perSecond;
    this.#burst = options.burst;
  }

  /**
   * Takes one token for `key`. Returns 0 when the request may proceed, otherwise the whole seconds to
   * wait before a token will be available (the Retry-After value).
   */
  take(key: string, now = performance.now()): number {
    if (this.#perSecond === 0) return 0;
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size > 100_000) this.#sweep(now);
      bucket = { tokens: this.#burst, at: now };
      this.#buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.at) / 1000) * this.#perSecond);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#perSecond));
  }

  /** Drops buckets that have refilled completely; they hold no state worth keeping. */
  #sweep(now: number): void {
    for (const [key, b] of this.#buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.#perSecond >= this.#burst) this.#buckets.delete(key);
    }
  }
}
