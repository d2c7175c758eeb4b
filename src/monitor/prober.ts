import type { Logger } from 'pino';
import { newRecord } from '../ingest/records.ts';
import type { NewRecord } from '../log/record.ts';
import { checkKey, type Check, type MissedReason } from './model.ts';
import { ConcurrencyLimit } from './limit.ts';
import type { MonitorMetrics } from './metrics.ts';
import { planTarget, runProbe, type KindPlan, type ProbeContext } from './kinds/plan.ts';
import { PlanParts } from './probe.ts';
import { inShard, nextSlot, slotOffset, slotStart, type Shard } from './schedule.ts';
import { compilePattern, type Target } from './target.ts';

export interface ProberOptions {
  /** Every target of every tenant, a page at a time (MonitorReader.targetPages); the prober keeps its shard's. */
  readonly targets: () => AsyncIterable<readonly Target[]>;
  /** The target set's fingerprint (MonitorReader.targetsVersion); a refresh that finds it unchanged reads nothing more. */
  readonly version?: () => Promise<string>;
  /** Where finished checks go (the outlet, which appends them to the log). */
  readonly emit: (record: NewRecord) => void;
  readonly region: string;
  readonly shard: Shard;
  readonly concurrency: number;
  readonly perHost: number;
  /** How often to re-read the target set (changes made in-process also call `refresh()`). */
  readonly refreshMs: number;
  readonly metrics: MonitorMetrics;
  readonly logger: Logger;
  /** What checks of some kinds read besides their plan (a heartbeat's last push, the system ping). */
  readonly probeContext: ProbeContext;
  /**
   * How long `stop()` waits for running checks (default 5 s); the ones still running then are left
   * unrecorded, as if the process had stopped before their slot. Keeps SIGTERM to exit within 10 s
   * at any load, where waiting for every check's own timeout (10 s by default) did not.
   */
  readonly drainMs?: number;
}

/**
 * What the prober keeps per target between checks: identity, the slim plan and the schedule. The
 * stored target itself is not kept (at 20,000 targets each whole one costs about 9 MB of heap).
 */
interface Entry {
  readonly id: string;
  readonly tenant: string;
  readonly updatedAt: number;
  readonly plan: KindPlan;
  /** Checks with the same key share the per-host concurrency limit (host:port, resolver…). */
  readonly host: string;
  readonly intervalMs: number;
  readonly offsetMs: number;
  slot: number;
  due: number;
  running: boolean;
  /** The running check has its concurrency place (false while it waits for one). */
  started: boolean;
  /** Which limit the running check had to wait for before it started, if any. */
  waited: MissedReason | undefined;
  /** Slots let pass since the last check, and why; reported with the next check. */
  missed: number;
  missedReason: MissedReason | undefined;
  removed: boolean;
}

/** A binary min-heap of entries by due time: the next check to start is always at the top. */
class DueHeap {
  readonly #items: Entry[] = [];
  get size(): number {
    return this.#items.length;
  }
  peek(): Entry | undefined {
    return this.#items[0];
  }
  push(e: Entry): void {
    const a = this.#items;
    a.push(e);
    for (let i = a.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (a[p]!.due <= a[i]!.due) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop(): Entry | undefined {
    const a = this.#items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]!.due < a[m]!.due) m = l;
        if (r < a.length && a[r]!.due < a[m]!.due) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}

const identity = (t: Target) => `${t.tenant}/${t.id}`;

/**
 * Schedules and runs checks. Each target is checked once per slot, at slot start = slot × interval +
 * a stable per-target offset; the next due time is computed from the slot, never from when the last
 * check finished, so the schedule cannot drift. Checks pass through global and per-host concurrency
 * limits; the wait counts as jitter, which is measured for every check.
 */
export class Prober {
  readonly #o: ProberOptions;
  readonly #limit: ConcurrencyLimit;
  readonly #heap = new DueHeap();
  #entries = new Map<string, Entry>();
  /** The fingerprint of the set the entries were planned from. */
  #version: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #refreshTimer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  /** Shared parts of targets preloaded since the last refresh. */
  #preloadParts: PlanParts | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  #stopped = false;
  #abandoned = false;

  constructor(options: ProberOptions) {
    this.#o = options;
    this.#limit = new ConcurrencyLimit({ global: options.concurrency, perHost: options.perHost });
  }

  /** Targets this prober schedules now. */
  get targetCount(): number {
    return this.#entries.size;
  }

  async start(): Promise<void> {
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

  /**
   * Starts scheduling targets before they are stored (a targets file being read at start-up): each
   * one not known yet starts at its next slot. The next refresh reconciles with the store as usual.
   */
  preload(targets: Iterable<Target>): void {
    if (this.#stopped) return;
    const now = Date.now();
    const parts = (this.#preloadParts ??= new PlanParts(compilePattern));
    for (const target of targets) {
      const key = identity(target);
      if (!inShard(key, this.#o.shard) || this.#entries.has(key) || target.paused === true) continue;
      const entry = this.#plan(target, key, now, parts, undefined);
      this.#entries.set(key, entry);
      this.#heap.push(entry);
    }
    this.#o.metrics.targets.set(this.#entries.size);
    this.#arm();
  }

  /** Re-reads the targets: new ones start at their next slot, changed ones are replanned, gone ones stop. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#reload().finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  async #reload(): Promise<void> {
    // Read before the targets: a change made while they are read shows as a new version next time.
    const version = await this.#o.version?.();
    if (this.#stopped || (version !== undefined && version === this.#version)) return;
    const reload = this.reconcile();
    for await (const page of this.#o.targets()) {
      if (this.#stopped) return;
      reload.add(page);
    }
    reload.finish(version);
  }

  /**
   * Reconciles the schedule with a new set of targets given in batches, as a ProberPool's part gets
   * them (refresh reads them itself): `add` each batch as it comes, then `finish`. Only the entries
   * are kept between batches, never the set's targets: at 20,000 targets, holding the set as objects
   * for a reload raised the probe's RSS about 13 MB above its steady figure after start-up (issue 20).
   * Synchronous from `reconcile` to `finish` unless the batches come in later.
   */
  reconcile(): { add(targets: Iterable<Target>): void; finish(version?: string): void } {
    const next = new Map<string, Entry>();
    const now = Date.now();
    // Shared per reload: targets with the same pattern, statuses, headers, tenant or host share one
    // copy (strings read from the store are fresh copies each time, even when equal).
    const parts = new PlanParts(compilePattern);
    const names = new Map<string, string>();
    const intern = (text: string) => {
      const known = names.get(text);
      if (known !== undefined) return known;
      names.set(text, text);
      return text;
    };
    return {
      add: (targets) => {
        if (this.#stopped) return;
        for (const target of targets) {
          const key = identity(target);
          // A paused target is not scheduled: dropped from `next`, its entry is removed below.
          if (!inShard(key, this.#o.shard) || target.paused === true) continue;
          const old = this.#entries.get(key);
          if (old && old.updatedAt === target.updatedAt) {
            next.set(key, old);
            continue;
          }
          if (old) old.removed = true;
          const entry = this.#plan(target, key, now, parts, old, intern);
          next.set(key, entry);
          this.#heap.push(entry);
        }
      },
      finish: (version) => {
        if (this.#stopped) return;
        this.#preloadParts = undefined;
        for (const [key, old] of this.#entries) if (!next.has(key)) old.removed = true;
        this.#entries = next;
        this.#version = version;
        this.#o.metrics.targets.set(next.size);
        this.#arm();
      },
    };
  }

  /**
   * A target's entry. A changed target with the same interval keeps its place in the schedule (the
   * slot it was waiting for), so an edit neither skips nor repeats a slot.
   */
  #plan(
    target: Target,
    key: string,
    now: number,
    parts: PlanParts,
    old: Entry | undefined,
    intern: (text: string) => string = (t) => t,
  ): Entry {
    const intervalMs = target.intervalSeconds * 1000;
    const offsetMs = slotOffset(key, intervalMs);
    const keep = old !== undefined && old.intervalMs === intervalMs;
    const slot = keep ? old.slot : nextSlot(now, intervalMs, offsetMs);
    const { plan, limitKey } = planTarget(target, parts);
    return {
      id: target.id,
      tenant: intern(target.tenant),
      updatedAt: target.updatedAt,
      plan,
      host: intern(limitKey),
      intervalMs,
      offsetMs,
      slot,
      due: slotStart(slot, intervalMs, offsetMs),
      running: false,
      started: false,
      waited: undefined,
      missed: 0,
      missedReason: undefined,
      removed: false,
    };
  }

  #arm(): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    // Drop removed entries from the top so a deleted target does not keep waking the timer.
    while (this.#heap.peek()?.removed) this.#heap.pop();
    const top = this.#heap.peek();
    if (!top) return;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, top.due - Date.now()));
  }

  #fire(): void {
    const now = Date.now();
    for (let top = this.#heap.peek(); top && top.due <= now; top = this.#heap.peek()) {
      const entry = this.#heap.pop()!;
      if (entry.removed) continue;
      if (entry.running) this.#miss(entry, 1, this.#busyReason(entry));
      else this.#dispatch(entry, entry.slot, entry.due);
      // Next slot from the slot, not from now: no drift. A stalled process skips missed slots.
      let slot = entry.slot + 1;
      const behind = nextSlot(now, entry.intervalMs, entry.offsetMs);
      if (behind > slot) {
        this.#miss(entry, behind - slot, 'stalled');
        slot = behind;
      }
      entry.slot = slot;
      entry.due = slotStart(slot, entry.intervalMs, entry.offsetMs);
      this.#heap.push(entry);
    }
    this.#arm();
  }

  /**
   * Why a due target's previous check has not finished: still waiting for a place, or running late
   * because it waited for one, or running longer than the interval (overrun).
   */
  #busyReason(entry: Entry): MissedReason {
    if (entry.started) return entry.waited ?? 'overrun';
    return this.#limit.hostFull(entry.host) ? 'per-host-limit' : 'concurrency-limit';
  }

  /** Counts slots let pass, in /metrics now and in the target's next check (`observed.missed`). */
  #miss(entry: Entry, slots: number, reason: MissedReason): void {
    this.#o.metrics.skipped.inc({ reason }, slots);
    entry.missed += slots;
    entry.missedReason = reason;
  }

  #dispatch(entry: Entry, slot: number, scheduledAt: number): void {
    entry.running = true;
    entry.started = false;
    const { metrics } = this.#o;
    const run = this.#limit
      .run(entry.host, async () => {
        entry.started = true;
        metrics.waiting.set(this.#limit.waiting);
        metrics.running.set(this.#limit.running);
        if (this.#stopped) return;
        const result = await runProbe(
          entry.plan,
          { tenant: entry.tenant, target: entry.id, scheduledAt },
          this.#o.probeContext,
        );
        // A heartbeat target not yet pushed to in its first interval is pending: no check for the slot.
        // Past the drain deadline of a stop, the outlet is closing: the check is left unrecorded.
        if (!result || this.#abandoned) return;
        metrics.jitter.observe(Math.max(0, result.startedAt - scheduledAt) / 1000);
        metrics.checks.inc({ outcome: result.ok ? 'up' : 'down', class: result.error?.class ?? '' });
        const missed =
          entry.missed > 0 && entry.missedReason !== undefined
            ? { slots: entry.missed, reason: entry.missedReason }
            : undefined;
        entry.missed = 0;
        const check: Check = {
          ...result,
          ...(missed === undefined ? {} : { observed: { ...result.observed, missed } }),
          ...(entry.plan.kind === 'http' ? {} : { kind: entry.plan.kind }),
          target: entry.id,
          region: this.#o.region,
          slot,
          scheduledAt,
        };
        this.#o.emit(
          newRecord(
            'checks',
            { tenant: entry.tenant, entity: entry.id, key: checkKey(check), ts: scheduledAt, body: check },
            Date.now(),
          ),
        );
      })
      .catch((err: unknown) => this.#o.logger.error({ err, target: entry.id }, 'check failed to run'))
      .finally(() => {
        entry.running = false;
        entry.started = false;
        this.#inFlight.delete(run);
        metrics.running.set(this.#limit.running);
      });
    this.#inFlight.add(run);
    // Not started at once: it waits for a place, under the per-host limit or the global one.
    entry.waited = entry.started
      ? undefined
      : this.#limit.hostFull(entry.host)
        ? 'per-host-limit'
        : 'concurrency-limit';
    metrics.waiting.set(this.#limit.waiting);
  }

  /**
   * Stops scheduling and waits for running checks to finish, up to `drainMs`; checks still waiting
   * for a concurrency place do not start.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#refreshTimer);
    await this.#refreshing?.catch(() => undefined);
    let deadline: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      deadline = setTimeout(() => resolve(true), this.#o.drainMs ?? 5000);
    });
    const timedOut = await Promise.race([Promise.all([...this.#inFlight]).then(() => false), late]);
    clearTimeout(deadline);
    if (timedOut) {
      this.#abandoned = true;
      this.#o.logger.warn(
        { checks: this.#inFlight.size },
        'stopping: checks still running are left unrecorded',
      );
    }
  }
}

/**
 * Re-reads the target set every `ms` until `stopped()`: a failed read is logged and the current set
 * kept. `onTimer` gets each timer, for the caller to clear on stop.
 */
export function refreshEvery(
  ms: number,
  refresh: () => Promise<void>,
  logger: Logger,
  stopped: () => boolean,
  onTimer: (timer: NodeJS.Timeout) => void,
): void {
  const loop = () => {
    const timer = setTimeout(() => {
      refresh()
        .catch((err: unknown) => logger.error({ err }, 'reading targets failed; keeping the current set'))
        .finally(() => !stopped() && loop());
    }, ms);
    timer.unref();
    onTimer(timer);
  };
  loop();
}
