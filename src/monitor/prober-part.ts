import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { NewRecord } from '../log/record.ts';
import { MonitorMetrics } from './metrics.ts';
import { Prober } from './prober.ts';
import type { FromThread, ThreadSettings, ToThread } from './prober-pool.ts';
import type { Push } from './store/repositories.ts';

/**
 * One full collection, once the first target set is applied, where the process runs with
 * --expose-gc (bin/beacon gives it to `beacon probe`). While a large targets file loads, V8 sizes
 * the old generation from what the load keeps alive for a moment, and the heap then grew to that
 * size with the checks' garbage before its next full collection, 2-3 s later: the probe's RSS at
 * 20,000 targets stayed 3-4 MB above its steady peak after the file was read (issue 20). Collected
 * now, the heap is sized to what the checks keep. A few tens of milliseconds, once.
 */
function collectAfterStartUp(): void {
  // V8's "last resort" collection also gives back the pages it freed (as when memory runs out),
  // instead of keeping them pooled for a few seconds.
  (globalThis as { gc?: (options: object) => void }).gc?.({
    type: 'major',
    execution: 'sync',
    flavor: 'last-resort',
  });
}

/**
 * One part of a ProberPool's targets: a Prober over the targets the pool gives it, spoken to in the
 * pool's messages. A worker thread runs one (prober-thread.ts) and so does the pool's own main thread,
 * in-process, which checks its part beside reading targets and appending checks; so the main thread is
 * never an isolate idling beside the ones that check (issue 20). Finished checks go back in batches.
 * Returns what handles the pool's messages.
 */
export function startProberPart(
  settings: ThreadSettings,
  send: (message: FromThread) => void,
  logger: Logger,
): (message: ToThread) => void {
  /** A target set being handed over, reconciled part by part as they come (see Prober.reconcile). */
  let reload: ReturnType<Prober['reconcile']> | undefined;
  let outbox: NewRecord[] = [];
  /** Checks go to the pool at most every 50 ms (one message per batch, not per check). */
  let flush: NodeJS.Timeout | undefined;
  const sendChecks = () => {
    flush = undefined;
    if (outbox.length === 0) return;
    send({ type: 'checks', records: outbox });
    outbox = [];
  };

  /** Whether the first target set was applied (see collectAfterStartUp). */
  let settled = false;
  let nextAsk = 0;
  const asked = new Map<number, (push: Push | undefined) => void>();
  // Its own registry: the pool adds every part's figures into /metrics (see ProberPool).
  const metrics = new MonitorMetrics(new Registry());
  const prober = new Prober({
    // The pool hands the targets over in messages (see below); the prober never reads them itself.
    targets: async function* () {},
    emit: (record) => {
      outbox.push(record);
      flush ??= setTimeout(sendChecks, 50);
    },
    region: settings.region,
    shard: settings.shard,
    concurrency: settings.concurrency,
    perHost: settings.perHost,
    // The pool says when targets change; no timer of its own.
    refreshMs: 2_147_483_647,
    metrics,
    logger,
    drainMs: settings.drainMs,
    probeContext: {
      // A heartbeat's last push is in the store, which the pool's main thread holds.
      lastPush: (tenant, target) =>
        new Promise((resolve) => {
          const id = nextAsk++;
          asked.set(id, resolve);
          send({ type: 'last-push', id, tenant, target });
        }),
      pingCommand: settings.pingCommand,
    },
  });

  /** Counters and gauges the pool adds up into /metrics, once a second. */
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

  return (message) => {
    switch (message.type) {
      case 'targets-part':
        (reload ??= prober.reconcile()).add(message.targets);
        send({ type: 'loaded', count: prober.targetCount });
        return;
      case 'targets-end': {
        const last = reload ?? prober.reconcile();
        reload = undefined;
        last.finish();
        send({ type: 'loaded', count: prober.targetCount });
        if (!settled) {
          settled = true;
          collectAfterStartUp();
        }
        return;
      }
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
  };
}
