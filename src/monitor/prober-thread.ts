/**
 * A prober worker thread (see ProberPool): runs a Prober over the targets the main thread gives it
 * (every target of a host lives in one thread, so per-host limits hold) and hands finished checks
 * back in batches; the main thread's outlet appends them to the log.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { NewRecord } from '../log/record.ts';
import { MonitorMetrics } from './metrics.ts';
import { Prober } from './prober.ts';
import type { Push } from './store/repositories.ts';
import type { Target } from './target.ts';
import type { FromThread, ThreadSettings, ToThread } from './prober-pool.ts';

const port = parentPort!;
const settings = workerData as ThreadSettings;
const send = (message: FromThread) => port.postMessage(message);

let targets: Target[] = [];
/** Parts of a target set being handed over. */
let parts: Target[][] = [];
let outbox: NewRecord[] = [];
/** Checks go to the main thread at most every 50 ms (one message per batch, not per check). */
let flush: NodeJS.Timeout | undefined;
const sendChecks = () => {
  flush = undefined;
  if (outbox.length === 0) return;
  send({ type: 'checks', records: outbox });
  outbox = [];
};

let nextAsk = 0;
const asked = new Map<number, (push: Push | undefined) => void>();
const metrics = new MonitorMetrics(new Registry());
const prober = new Prober({
  targets: () => Promise.resolve(targets),
  emit: (record) => {
    outbox.push(record);
    flush ??= setTimeout(sendChecks, 50);
  },
  region: settings.region,
  shard: settings.shard,
  concurrency: settings.concurrency,
  perHost: settings.perHost,
  // The main thread says when targets change; no timer of its own.
  refreshMs: 2_147_483_647,
  metrics,
  logger: pino({ level: settings.logLevel }).child({ part: 'prober', thread: settings.index }),
  drainMs: settings.drainMs,
  probeContext: {
    // A heartbeat's last push is in the store, which the main thread holds.
    lastPush: (tenant, target) =>
      new Promise((resolve) => {
        const id = nextAsk++;
        asked.set(id, resolve);
        send({ type: 'last-push', id, tenant, target });
      }),
    pingCommand: settings.pingCommand,
  },
});

/** Counters and gauges the main thread adds up into /metrics, once a second. */
const stats = setInterval(() => {
  void (async () => {
    const skipped: Record<string, number> = {};
    for (const v of (await metrics.skipped.get()).values) skipped[String(v.labels.reason)] = v.value;
    const gauge = async (g: MonitorMetrics['running']) => (await g.get()).values[0]?.value ?? 0;
    send({
      type: 'stats',
      skipped,
      running: await gauge(metrics.running),
      waiting: await gauge(metrics.waiting),
      targets: prober.targetCount,
    });
  })();
}, 1000);
stats.unref();

port.on('message', (message: ToThread) => {
  switch (message.type) {
    case 'targets-part':
      parts.push(message.targets);
      return;
    case 'targets':
      targets = parts.length === 0 ? message.targets : [...parts.flat(), ...message.targets];
      parts = [];
      void prober.refresh().then(() => {
        targets = [];
        send({ type: 'loaded', count: prober.targetCount });
      });
      return;
    case 'preload':
      prober.preload(message.targets);
      return;
    case 'last-push':
      asked.get(message.id)?.(message.push);
      asked.delete(message.id);
      return;
    case 'stop':
      clearInterval(stats);
      void prober.stop().then(() => {
        clearTimeout(flush);
        sendChecks();
        send({ type: 'stopped' });
      });
      return;
  }
});
send({ type: 'ready' });
