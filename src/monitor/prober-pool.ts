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
  /** Part of the target set, answered with `loaded` once taken. */
  | { readonly type: 'targets-part'; readonly targets: Target[] }
  /** The set's parts are all given: apply it (answered with `loaded`). */
  | { readonly type: 'targets-end' }
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

/** The part a target is checked in: by its per-host limit key, so a host's checks share one limit. */
export function threadOf(target: Target, threads: number): number {
  return threads === 1 ? 0 : stableHash(limitKeyOf(target)) % threads;
}

/** What the pool is started with, besides a Prober's options. */
export interface PoolOptions extends ProberOptions {
  /** Worker threads (`monitor.workers`, or at most one per core when auto). */
  readonly threads: number;
  /**
   * Auto: due checks a second the main thread takes alone. The pool starts with its checks on the
   * main thread and moves them to worker threads, as many as the due rate needs (one per this many
   * checks a second, up to `threads`), when the targets it is given are due more often. Undefined:
   * the worker threads from the start.
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
 * Schedules and runs checks on the main thread or on worker threads, so the probe can use every core
 * (issue 20). The main thread reads the targets (store and targets file); its own part checks them
 * all while that keeps up, since each worker thread is a V8 isolate with a heap and code of its own
 * (tens of MB under load). When the due rate needs more, the targets go to worker threads instead,
 * each its share by the hash of each target's per-host limit key: all the checks of one host are in
 * one thread, under one per-host limit, and each target is scheduled by exactly one part. Targets
 * move between parts but their slots do not: a slot comes from the target's key and interval, and a
 * moved target starts in its new part at its next slot, so no slot is checked twice or let pass.
 * Parts hand their finished checks back in batches; they leave through the main thread's one outlet.
 * Same surface as Prober.
 */
export class ProberPool {
  readonly #o: PoolOptions;
  /** The main thread's part first, then one per worker thread. */
  readonly #parts: Part[] = [];
  readonly #started: Promise<void>[] = [];
  #version: string | undefined;
  #refreshTimer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  #stopped = false;
  /** Checks a second of the targets previewed since the last refresh (see preload). */
  #previewed = 0;

  constructor(options: PoolOptions) {
    this.#o = options;
  }

  get targetCount(): number {
    return this.#parts.reduce((n, t) => n + t.count, 0);
  }

  /** Worker threads started (0 while the main thread checks alone). */
  get threads(): number {
    return this.#parts.length - 1;
  }

  /** Starts the parts (before a targets file is read, so its preview has somewhere to go). */
  async ready(): Promise<void> {
    if (this.#parts.length === 0) {
      this.#mainPart();
      if (this.#o.checksPerThread === undefined) this.#grow(this.#o.threads);
    }
    await Promise.all(this.#started);
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

  #settings(index: number, concurrency: number): ThreadSettings {
    const o = this.#o;
    return {
      index,
      region: o.region,
      shard: o.shard,
      concurrency,
      perHost: o.perHost,
      drainMs: o.drainMs ?? 5000,
      pingCommand: o.probeContext.pingCommand,
      logLevel: o.logLevel,
    };
  }

  /** The main thread's part: in-process, so its messages are calls, and its answers come back the same way. */
  #mainPart(): void {
    let receive: (m: ToThread) => void = () => undefined;
    const part: Part = { post: (m) => receive(m), worker: undefined, ...idle() };
    receive = startProberPart(
      // Alone it has the whole limit; once the workers have the targets it has none to check.
      this.#settings(0, this.#o.concurrency),
      (m) => this.#receive(part, m),
      this.#o.logger.child({ thread: 0 }),
    );
    this.#parts.push(part);
  }

  /**
   * Starts worker threads up to `count`. Messages posted before a thread runs wait in its port, so
   * the new parts take targets at once.
   */
  #grow(count: number): void {
    for (let index = this.#parts.length; index <= count; index++) {
      // The global limit is shared out among every thread the pool may have, so it holds as it grows;
      // a host's limit is whole in its one thread.
      const concurrency = Math.max(1, Math.ceil(this.#o.concurrency / this.#o.threads));
      const worker = new Worker(THREAD, { workerData: this.#settings(index, concurrency) });
      const part: Part = { post: (m) => worker.postMessage(m), worker, ...idle() };
      this.#parts.push(part);
      this.#started.push(
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
  }

  /** Grows to the worker threads `checksPerSecond` needs, if more than there are; true when it did. */
  #growFor(checksPerSecond: number): boolean {
    const per = this.#o.checksPerThread;
    if (per === undefined || this.#stopped) return false;
    const perShard = checksPerSecond / this.#o.shard.count;
    // The main thread alone up to `per`; past it, worker threads for all of it.
    const wanted = perShard <= per ? 0 : Math.min(this.#o.threads, Math.ceil(perShard / per));
    if (wanted <= this.threads) return false;
    this.#o.logger.info(
      { threads: wanted, checksPerSecond: Math.round(perShard) },
      'moving checks to prober threads for the due rate',
    );
    this.#grow(wanted);
    return true;
  }

  /** The part a target is checked in: the main thread's while it is alone, else a worker thread's. */
  #partOf(target: Target, parts = this.#parts.length): number {
    return parts === 1 ? 0 : 1 + threadOf(target, parts - 1);
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
    // A page at a time, and each part takes its share of a page before the next is read: neither the
    // main thread nor the threads' message queues ever hold the whole set. Posted all at once, 60,000
    // targets waited as cloned messages for the threads to take them, and the probe's RSS peaked
    // 40 MB above its steady figure (issue 20).
    const parts = [...this.#parts];
    /** Checks due a second, over every shard. */
    let due = 0;
    for await (const page of this.#o.targets()) {
      if (this.#stopped) return;
      const shares: Target[][] = parts.map(() => []);
      for (const target of page) {
        if (target.paused !== true) due += 1 / target.intervalSeconds;
        shares[this.#partOf(target, parts.length)]!.push(target);
      }
      await Promise.all(
        shares.flatMap((targets, i) =>
          targets.length === 0 ? [] : [this.#ask(parts[i]!, { type: 'targets-part', targets })],
        ),
      );
    }
    if (this.#stopped) return;
    await Promise.all(parts.map((t) => this.#ask(t, { type: 'targets-end' })));
    this.#version = version;
    this.#previewed = 0;
    this.#o.metrics.targets.set(this.targetCount);
    if (this.#growFor(due)) {
      // Read again, spread over the new parts once they run (the main thread's part checks its
      // targets until then): the targets that move start at their next slot.
      await Promise.all(this.#started);
      this.#version = undefined;
      await this.#reload();
    }
  }

  /**
   * Starts checking targets before they are stored (see Prober.preload), each in its part. `read`
   * is the share of the targets file read so far: once a twentieth of it is read, the pool grows
   * for the rate the whole file will have at this one's, so a large file goes to the worker threads
   * from its first thousands of targets. Grown only for what was read, the main thread's part
   * planned the first 30,000 of 60,000 targets and held them until the file was stored, 20-25 MB
   * of its heap above its steady figure (issue 20).
   */
  preload(targets: Iterable<Target>, read = 1): void {
    if (this.#stopped || this.#parts.length === 0) return;
    const batch = [...targets];
    for (const t of batch) if (t.paused !== true) this.#previewed += 1 / t.intervalSeconds;
    // A large targets file moves to worker threads while it is read, not once it is stored: the main
    // thread would otherwise check all of it while it also writes it to the store.
    this.#growFor(read >= 0.05 ? this.#previewed / read : this.#previewed);
    const batches: Target[][] = this.#parts.map(() => []);
    for (const t of batch) batches[this.#partOf(t)]!.push(t);
    batches.forEach((b, i) => {
      if (b.length > 0) this.#parts[i]!.post({ type: 'preload', targets: b });
    });
  }

  /** Stops every part: each drains as Prober.stop does and hands back its last checks. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#refreshTimer);
    await this.#refreshing?.catch(() => undefined);
    await Promise.all(this.#started).catch(() => undefined);
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
