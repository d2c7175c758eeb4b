import { Worker } from 'node:worker_threads';
import type { NewRecord } from '../log/record.ts';
import { limitKeyOf } from './kinds/plan.ts';
import type { Check } from './model.ts';
import { refreshEvery, type ProberOptions } from './prober.ts';
import { stableHash, type Shard } from './schedule.ts';
import type { Push } from './store/repositories.ts';
import type { Target } from './target.ts';

/** The prober thread's module, beside this one: .ts among the sources, .mjs in the probe's bundle. */
const THREAD = new URL(
  import.meta.url.endsWith('.ts') ? './prober-thread.ts' : './prober-thread.mjs',
  import.meta.url,
);

/** What a prober thread is started with. */
export interface ThreadSettings {
  readonly index: number;
  readonly region: string;
  readonly shard: Shard;
  readonly concurrency: number;
  readonly perHost: number;
  readonly drainMs: number;
  readonly pingCommand: string;
  readonly logLevel: string;
}

export type ToThread =
  /** Part of the target set; the last part comes as `targets`, which applies the whole set. */
  | { readonly type: 'targets-part'; readonly targets: Target[] }
  | { readonly type: 'targets'; readonly targets: Target[] }
  | { readonly type: 'preload'; readonly targets: readonly Target[] }
  | { readonly type: 'last-push'; readonly id: number; readonly push: Push | undefined }
  | { readonly type: 'stop' };

export type FromThread =
  | { readonly type: 'ready' }
  | { readonly type: 'loaded'; readonly count: number }
  | { readonly type: 'checks'; readonly records: NewRecord[] }
  | { readonly type: 'last-push'; readonly id: number; readonly tenant: string; readonly target: string }
  | {
      readonly type: 'stats';
      readonly skipped: Record<string, number>;
      readonly running: number;
      readonly waiting: number;
      readonly targets: number;
    }
  | { readonly type: 'stopped' };

/** Targets per message when the set is handed to the threads. */
const PART = 2000;

/** The thread a target is checked in: by its per-host limit key, so a host's checks share one limit. */
export function threadOf(target: Target, threads: number): number {
  return threads === 1 ? 0 : stableHash(limitKeyOf(target)) % threads;
}

interface Thread {
  readonly worker: Worker;
  /** Resolves the next 'loaded' or 'stopped'. */
  waiting: ((message: FromThread) => void)[];
  count: number;
  skipped: Record<string, number>;
  running: number;
  waitingChecks: number;
}

/**
 * Schedules and runs checks on several worker threads, so the probe uses every core (issue 20). The
 * main thread reads the targets (store and targets file) and gives each thread its part, by the hash
 * of each target's per-host limit key: all the checks of one host are in one thread, under one
 * per-host limit, and each target is scheduled by exactly one thread, with the same slots as ever.
 * Threads hand their finished checks back in batches; they leave through the main thread's one
 * outlet. Same surface as Prober.
 */
export class ProberPool {
  readonly #o: ProberOptions & { readonly threads: number; readonly logLevel: string };
  readonly #threads: Thread[] = [];
  #version: string | undefined;
  #refreshTimer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  #stopped = false;
  #spawning: Promise<void> | undefined;

  constructor(options: ProberOptions & { readonly threads: number; readonly logLevel: string }) {
    this.#o = options;
  }

  get targetCount(): number {
    return this.#threads.reduce((n, t) => n + t.count, 0);
  }

  /** Starts the threads (before a targets file is read, so its preview has somewhere to go). */
  ready(): Promise<void> {
    this.#spawning ??= this.#spawn();
    return this.#spawning;
  }

  async start(): Promise<void> {
    await this.ready();
    await this.refresh();
    refreshEvery(
      this.#o.refreshMs,
      () => this.refresh(),
      this.#o.logger,
      () => this.#stopped,
      (timer) => {
        this.#refreshTimer = timer;
      },
    );
  }

  async #spawn(): Promise<void> {
    const o = this.#o;
    const ready: Promise<void>[] = [];
    for (let index = 0; index < o.threads; index++) {
      const settings: ThreadSettings = {
        index,
        region: o.region,
        shard: o.shard,
        // The global limit is shared out; a host's limit is whole in its one thread.
        concurrency: Math.max(1, Math.ceil(o.concurrency / o.threads)),
        perHost: o.perHost,
        drainMs: o.drainMs ?? 5000,
        pingCommand: o.probeContext.pingCommand,
        logLevel: o.logLevel,
      };
      const worker = new Worker(THREAD, { workerData: settings });
      const thread: Thread = { worker, waiting: [], count: 0, skipped: {}, running: 0, waitingChecks: 0 };
      this.#threads.push(thread);
      ready.push(
        new Promise<void>((resolve, reject) => {
          worker.once('error', reject);
          worker.on('message', (m: FromThread) => {
            if (m.type === 'ready') resolve();
            else this.#receive(thread, m);
          });
        }),
      );
      worker.on('error', (err) => o.logger.error({ err, thread: index }, 'prober thread failed'));
    }
    await Promise.all(ready);
  }

  #receive(thread: Thread, m: FromThread): void {
    const { metrics } = this.#o;
    switch (m.type) {
      case 'checks':
        for (const record of m.records) {
          const check = record.body as Check;
          metrics.jitter.observe(Math.max(0, check.startedAt - check.scheduledAt) / 1000);
          metrics.checks.inc({ outcome: check.ok ? 'up' : 'down', class: check.error?.class ?? '' });
          this.#o.emit(record);
        }
        return;
      case 'last-push':
        void this.#o.probeContext
          .lastPush(m.tenant, m.target)
          .catch(() => undefined)
          .then((push) =>
            thread.worker.postMessage({ type: 'last-push', id: m.id, push } satisfies ToThread),
          );
        return;
      case 'stats':
        for (const [reason, total] of Object.entries(m.skipped)) {
          const delta = total - (thread.skipped[reason] ?? 0);
          if (delta > 0) metrics.skipped.inc({ reason }, delta);
        }
        thread.skipped = m.skipped;
        thread.running = m.running;
        thread.waitingChecks = m.waiting;
        thread.count = m.targets;
        metrics.running.set(this.#threads.reduce((n, t) => n + t.running, 0));
        metrics.waiting.set(this.#threads.reduce((n, t) => n + t.waitingChecks, 0));
        return;
      case 'loaded':
      case 'stopped':
        if (m.type === 'loaded') thread.count = m.count;
        thread.waiting.shift()?.(m);
        return;
      case 'ready':
        return;
    }
  }

  #ask(thread: Thread, message: ToThread): Promise<FromThread> {
    return new Promise((resolve) => {
      thread.waiting.push(resolve);
      thread.worker.postMessage(message);
    });
  }

  /** Re-reads the targets and gives each thread its part (a thread keeps the slots of targets it had). */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#reload().finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  async #reload(): Promise<void> {
    const version = await this.#o.version?.();
    if (this.#stopped || (version !== undefined && version === this.#version)) return;
    // Handed on in parts as the rows are read, so the main thread never holds the whole set.
    const parts: Target[][] = this.#threads.map(() => []);
    for (const target of await this.#o.targets()) {
      const i = threadOf(target, parts.length);
      const part = parts[i]!;
      part.push(target);
      if (part.length >= PART) {
        this.#threads[i]!.worker.postMessage({ type: 'targets-part', targets: part } satisfies ToThread);
        parts[i] = [];
      }
    }
    if (this.#stopped) return;
    await Promise.all(this.#threads.map((t, i) => this.#ask(t, { type: 'targets', targets: parts[i]! })));
    this.#version = version;
    this.#o.metrics.targets.set(this.targetCount);
  }

  #partition(targets: Iterable<Target>): Target[][] {
    const parts: Target[][] = this.#threads.map(() => []);
    for (const t of targets) parts[threadOf(t, parts.length)]!.push(t);
    return parts;
  }

  /** Starts checking targets before they are stored (see Prober.preload), each in its thread. */
  preload(targets: Iterable<Target>): void {
    if (this.#stopped || this.#threads.length === 0) return;
    this.#partition(targets).forEach((part, i) => {
      if (part.length > 0)
        this.#threads[i]!.worker.postMessage({ type: 'preload', targets: part } satisfies ToThread);
    });
  }

  /** Stops every thread: each drains as Prober.stop does and hands back its last checks. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#refreshTimer);
    await this.#refreshing?.catch(() => undefined);
    await Promise.all(
      this.#threads.map(async (t) => {
        await this.#ask(t, { type: 'stop' });
        await t.worker.terminate();
      }),
    );
  }
}
