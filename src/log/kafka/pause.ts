/** A sleep that close() can cut short, so loops waiting out a backoff stop at once. */
export class Pause {
  #wake: (() => void) | undefined;
  #interrupted = false;

  for(ms: number): Promise<void> {
    if (this.#interrupted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(finish, ms);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      function finish(): void {
        resolve();
      }
      this.#wake = wake;
    });
  }

  /** Ends the current pause and makes later ones return at once. */
  interrupt(): void {
    this.#interrupted = true;
    this.#wake?.();
  }
}
