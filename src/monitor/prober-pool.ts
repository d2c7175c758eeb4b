import { Worker } from 'node:worker_threads';
import type { NewRecord } from '../log/record.ts';
import { limitKeyOf } from './kinds/plan.ts';
import type { Check } from './model.ts';
import { startProberPart } from './prober-part.ts';
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

/** Targets per message when the set is handed to the parts. */
const PART = 2000;

/** The part a target is checked in: by its per-host limit key, so a host's checks share one limit. */
export function threadOf(target: Target, threads: number): number {
  return threads === 1 ? 0 : stableHash(limitKeyOf(target)) % threads;
}

/** What the pool is started with, besides a Prober's options. */
export interface PoolOptions extends ProberOptions {
  /** Most parts, the main thread's included (`monitor.workers`, or one per core). */
  readonly threads: number;
  /**
   * Grows with the load: due checks a second one part takes. The pool starts with the main thread's
   * part alone and adds worker threads, up to `threads`, when a refresh finds the target set due more
   * often than its parts take. Undefined: every part from the start.
   */
  readonly checksPerThread?: number;
  readonly logLevel: string;
}

/** One part of the targets: checked on the main thread (in-process) or on a worker thread. */
interface Part {
  readonly post: (message: ToThread) => void;
  readonly worker: Worker | undefined;
  /** Resolves the next 'loaded' or 'stopped'. */
  waiting: ((message: FromThread) => void)[];
  count: number;
  skipped: Record<string, number>;
  running: number;
  waitingChecks: number;
}

/**
 * Schedules and runs checks in parts, one on the main thread and one on each worker thread, so the
 * probe can use every core (issue 20). The main thread reads the targets (store and targets file) and
 * gives each part its share by the hash of each target's per-host limit key: all the checks of one host
 * are in one part, under one per-host limit, and each target is scheduled by exactly one part, with the
 * same slots as ever. Each worker thread is a V8 isolate with a heap and code of its own (tens of MB
 * under load), so with `checksPerThread` the pool starts on the main thread alone and adds threads only
 * when the due rate needs them. Growing moves targets between parts but not their slots: a target's
 * slots come from its key and interval, and its new part starts at its next slot, so no slot is checked
 * twice or let pass. Parts hand their finished checks back in batches; they leave through the main
 * thread's one outlet. Same surface as Prober.
 */
export class ProberPool {
  readonly #o: PoolOptions;
  readonly #parts: Part[] = [];
  #version: string | undefined;
  #refreshTimer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  #stopped = false;
  #spawning: Promise<void> | undefined;

  constructor(options: PoolOptions) {
    this.#o = options;
  }

  get targetCount(): number {
    return this.#parts.reduce((n, t) => n + t.count, 0);
  }

  /** Parts checking now: the main thread's and one per worker thread started. */
  get threads(): number {
    return this.#parts.length;
  }

  /** Starts the parts (before a targets file is read, so its preview has somewhere to go). */
  ready(): Promise<void> {
    this.#spawning ??= this.#grow(this.#o.checksPerThread === undefined ? this.#o.threads : 1);
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

  #settings(index: number): ThreadSettings {
    const o = this.#o;
    return {
      index,
      region: o.region,
      shard: o.shard,
      // The global limit is shared out among every part the pool may have, so it holds as it grows;
      // a host's limit is whole in its one part.
      concurrency: Math.max(1, Math.ceil(o.concurrency / o.threads)),
      perHost: o.perHost,
      drainMs: o.drainMs ?? 5000,
      pingCommand: o.probeContext.pingCommand,
      logLevel: o.logLevel,
    };
  }

  /** Adds parts up to `count`: the main thread's first, then worker threads. */
  async #grow(count: number): Promise<void> {
    const ready: Promise<void>[] = [];
    for (let index = this.#parts.length; index < count; index++) {
      const settings = this.#settings(index);
      if (index === 0) {
        // In-process: the part's messages are calls, and its answers come back the same way.
        let receive: (m: ToThread) => void = () => undefined;
        const part: Part = { post: (m) => receive(m), worker: undefined, ...idle() };
        receive = startProberPart(
          settings,
          (m) => this.#receive(part, m),
          this.#o.logger.child({ thread: 0 }),
        );
        this.#parts.push(part);
        continue;
      }
      const worker = new Worker(THREAD, { workerData: settings });
      const part: Part = { post: (m) => worker.postMessage(m), worker, ...idle() };
      this.#parts.push(part);
      ready.push(
        new Promise<void>((resolve, reject) => {
          worker.once('error', reject);
          worker.on('message', (m: FromThread) => {
            if (m.type === 'ready') resolve();
            else this.#receive(part, m);
          });
        }),
      );
      worker.on('error', (err) => this.#o.logger.error({ err, thread: index }, 'prober thread failed'));
    }
    await Promise.all(ready);
  }

  #receive(part: Part, m: FromThread): void {
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
          .then((push) => part.post({ type: 'last-push', id: m.id, push }));
        return;
      case 'stats':
        for (const [reason, total] of Object.entries(m.skipped)) {
          const delta = total - (part.skipped[reason] ?? 0);
          if (delta > 0) metrics.skipped.inc({ reason }, delta);
        }
        part.skipped = m.skipped;
        part.running = m.running;
        part.waitingChecks = m.waiting;
        part.count = m.targets;
        metrics.running.set(this.#parts.reduce((n, t) => n + t.running, 0));
        metrics.waiting.set(this.#parts.reduce((n, t) => n + t.waitingChecks, 0));
        return;
      case 'loaded':
      case 'stopped':
        if (m.type === 'loaded') part.count = m.count;
        part.waiting.shift()?.(m);
        return;
      case 'ready':
        return;
    }
  }

  #ask(part: Part, message: ToThread): Promise<FromThread> {
    return new Promise((resolve) => {
      part.waiting.push(resolve);
      part.post(message);
    });
  }

  /** Re-reads the targets and gives each part its share (a part keeps the slots of targets it had). */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#reload().finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  async #reload(): Promise<void> {
    const version = await this.#o.version?.();
    if (this.#stopped || (version !== undefined && version === this.#version)) return;
    // Handed on in parts as the rows are read, so the main thread never holds the whole set.
    const parts = this.#parts;
    const batches: Target[][] = parts.map(() => []);
    /** Checks due a second, over every shard. */
    let due = 0;
    for (const target of await this.#o.targets()) {
      if (target.paused !== true) due += 1 / target.intervalSeconds;
      const i = threadOf(target, batches.length);
      const batch = batches[i]!;
      batch.push(target);
      if (batch.length >= PART) {
        parts[i]!.post({ type: 'targets-part', targets: batch });
        batches[i] = [];
      }
    }
    if (this.#stopped) return;
    await Promise.all(parts.map((t, i) => this.#ask(t, { type: 'targets', targets: batches[i]! })));
    this.#version = version;
    this.#o.metrics.targets.set(this.targetCount);
    const wanted = this.#wanted(due / this.#o.shard.count);
    if (wanted > parts.length && !this.#stopped) {
      this.#o.logger.info(
        { threads: wanted, checksPerSecond: Math.round(due / this.#o.shard.count) },
        'adding prober threads for the due rate',
      );
      await this.#grow(wanted);
      // Read again, spread over every part: the targets that move start at their next slot.
      this.#version = undefined;
      await this.#reload();
    }
  }

  /** The parts the due rate needs (never fewer than there are: the pool grows, it does not shrink). */
  #wanted(checksPerSecond: number): number {
    const per = this.#o.checksPerThread;
    if (per === undefined) return this.#parts.length;
    return Math.min(this.#o.threads, Math.max(this.#parts.length, Math.ceil(checksPerSecond / per)));
  }

  #partition(targets: Iterable<Target>): Target[][] {
    const parts: Target[][] = this.#parts.map(() => []);
    for (const t of targets) parts[threadOf(t, parts.length)]!.push(t);
    return parts;
  }

  /** Starts checking targets before they are stored (see Prober.preload), each in its part. */
  preload(targets: Iterable<Target>): void {
    if (this.#stopped || this.#parts.length === 0) return;
    this.#partition(targets).forEach((batch, i) => {
      if (batch.length > 0) this.#parts[i]!.post({ type: 'preload', targets: batch });
    });
  }

  /** Stops every part: each drains as Prober.stop does and hands back its last checks. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#refreshTimer);
    await this.#refreshing?.catch(() => undefined);
    await this.#spawning?.catch(() => undefined);
    await Promise.all(
      this.#parts.map(async (t) => {
        await this.#ask(t, { type: 'stop' });
        await t.worker?.terminate();
      }),
    );
  }
}

/** A part's figures before its first stats. */
function idle(): Pick<Part, 'waiting' | 'count' | 'skipped' | 'running' | 'waitingChecks'> {
  return { waiting: [], count: 0, skipped: {}, running: 0, waitingChecks: 0 };
}
