import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Config } from '../../config/schema.ts';
import type { MetricsSnapshot } from '../../observability/metrics.ts';

export type ToSinkThread =
  { type: 'metrics'; id: number } | { type: 'close' } | { type: 'listening'; value: boolean };
export type FromSinkThread =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'metrics'; id: number; snapshot: MetricsSnapshot }
  | { type: 'closed' };

/** The sinks of `beacon start`, running in a worker thread (`worker.ts`). */
export interface SinkThread {
  /** The thread's sink metrics, for /metrics. */
  metrics(): Promise<MetricsSnapshot>;
  /** Tells the sinks whether anyone subscribes to live frames, so they compute them only then. */
  setListening(value: boolean): void;
  /** Stops the sinks after their batches in hand and ends the thread. */
  close(): Promise<void>;
}

const RESTART_MS = 1000;

/**
 * Starts the sink thread and resolves once its sinks run. A thread that dies is logged and started
 * again after a second: sinks resume from their checkpoints, so nothing is stored twice or skipped.
 */
export async function startSinkThread(config: Readonly<Config>, logger: Logger): Promise<SinkThread> {
  let worker: Worker;
  let closing = false;
  let listening = false;
  let nextId = 0;
  const pending = new Map<number, (snapshot: MetricsSnapshot) => void>();
  let onClosed: (() => void) | undefined;

  function spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const w = new Worker(new URL('./worker.ts', import.meta.url), { workerData: { config } });
      worker = w;
      let ready = false;
      w.on('message', (message: FromSinkThread) => {
        if (message.type === 'ready') {
          ready = true;
          // A restarted thread starts from what the hub last said.
          if (listening) w.postMessage({ type: 'listening', value: true } satisfies ToSinkThread);
          resolve();
        } else if (message.type === 'failed') {
          reject(new Error(`sink thread failed to start: ${message.message}`));
        } else if (message.type === 'metrics') {
          pending.get(message.id)?.(message.snapshot);
          pending.delete(message.id);
        } else {
          onClosed?.();
        }
      });
      w.on('error', (err) => {
        logger.error({ err }, 'sink thread crashed');
        if (!ready) reject(err instanceof Error ? err : new Error(String(err)));
      });
      w.on('exit', (code) => {
        for (const answer of pending.values()) answer([]);
        pending.clear();
        onClosed?.();
        if (closing || !ready) return;
        logger.error({ code }, `sink thread exited; restarting in ${RESTART_MS} ms`);
        setTimeout(() => {
          if (!closing) spawn().catch((err: unknown) => logger.error({ err }, 'sink thread restart failed'));
        }, RESTART_MS).unref();
      });
    });
  }

  await spawn();
  return {
    metrics: () =>
      new Promise((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        worker.postMessage({ type: 'metrics', id } satisfies ToSinkThread);
      }),
    setListening: (value) => {
      if (value === listening) return;
      listening = value;
      worker.postMessage({ type: 'listening', value } satisfies ToSinkThread);
    },
    close: async () => {
      closing = true;
      const closed = new Promise<void>((resolve) => (onClosed = resolve));
      worker.postMessage({ type: 'close' } satisfies ToSinkThread);
      await closed;
      await worker.terminate();
    },
  };
}
