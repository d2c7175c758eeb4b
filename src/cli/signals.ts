import type { Logger } from 'pino';

/**
 * Keeps the process alive until SIGTERM or SIGINT, then runs `close` and exits 0. If closing takes
 * longer than the timeout the process exits 1; a second signal exits at once.
 */
export function runUntilSignal(close: () => Promise<void>, timeoutMs: number, logger: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal; exiting now');
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal }, 'shutting down: draining accepted work');
      const timer = setTimeout(() => {
        logger.error('shutdown timed out');
        process.exit(1);
      }, timeoutMs + 5000);
      timer.unref();
      close()
        .then(() => {
          resolve();
          process.exit(0);
        })
        .catch((err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
