import type { Logger } from 'pino';

/**
 * Runs `tick` every `pollMs`, or at once when woken, never two at a time; a failed tick is logged and
 * the next one comes as usual. `close()` stops it and waits for a tick under way.
 */
export class WorkerLoop {
  readonly #tick: () => Promise<void>;
  readonly #pollMs: number;
  readonly #logger: Logger;
  readonly #what: string;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;

  constructor(options: { tick: () => Promise<void>; pollMs: number; logger: Logger; what: string }) {
    this.#tick = options.tick;
    this.#pollMs = options.pollMs;
    this.#logger = options.logger;
    this.#what = options.what;
  }

  start(): void {
    this.#schedule(0);
  }

  /** Runs a tick now (after the one under way, if any). */
  wake(): void {
    if (this.#closed) return;
    if (this.#running) this.#again = true;
    else this.#schedule(0);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#running = this.#tick()
        .catch((err: unknown) => this.#logger.error({ err }, `${this.#what} failed; trying again later`))
        .finally(() => {
          this.#running = undefined;
          if (this.#closed) return;
          const again = this.#again;
          this.#again = false;
          this.#schedule(again ? 0 : this.#pollMs);
        });
    }, ms);
    this.#timer.unref();
  }
}
