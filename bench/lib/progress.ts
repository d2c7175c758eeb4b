import { count, percent } from './format.ts';

/** Progress goes to stderr so stdout carries only the figures. */
const out = process.stderr;
const TTY = out.isTTY;
/** A terminal line is rewritten often; a log file gets a line every few seconds. */
const EVERY_MS = TTY ? 100 : 2000;

/** Announces the step a benchmark is starting. */
export function step(message: string): void {
  out.write(`${TTY ? '\r\x1b[2K' : ''}→ ${message}\n`);
}

/** Prints a detail line under the current step. */
export function note(message: string): void {
  out.write(`${TTY ? '\r\x1b[2K' : ''}  ${message}\n`);
}

/**
 * Shows how far a long step has got, e.g. "seeding 1,000,000 messages: 420,000 (42%)". Updates are
 * throttled, so callers may report after every unit of work.
 */
export class Progress {
  readonly #label: string;
  readonly #total: number | undefined;
  readonly #unit: string;
  readonly #started = performance.now();
  #shownAt = 0;

  /**
   * @param total the amount `done` counts towards, when known, for a percentage
   * @param unit appended to the amount done, e.g. " s"
   */
  constructor(label: string, total?: number, unit = '') {
    this.#label = label;
    this.#total = total;
    this.#unit = unit;
  }

  update(done: number, detail?: string): void {
    const now = performance.now();
    if (now - this.#shownAt < EVERY_MS) return;
    this.#shownAt = now;
    const line = this.#line(done, detail);
    out.write(TTY ? `\r\x1b[2K${line}` : `${line}\n`);
  }

  /** Prints the final state and how long the step took. */
  finish(done: number, detail?: string): void {
    const seconds = ((performance.now() - this.#started) / 1000).toFixed(1);
    out.write(`${TTY ? '\r\x1b[2K' : ''}${this.#line(done, detail)} in ${seconds} s\n`);
  }

  #line(done: number, detail: string | undefined): string {
    const total = this.#total === undefined ? '' : ` (${percent(done, this.#total)})`;
    return `  ${this.#label}: ${count(done)}${this.#unit}${total}${detail ? `, ${detail}` : ''}`;
  }
}
