import type { Logger } from 'pino';
import { newRecord } from '../ingest/records.ts';
import type { NewRecord } from '../log/record.ts';
import { checkKey, type Check } from './model.ts';
import { ConcurrencyLimit } from './limit.ts';
import type { MonitorMetrics } from './metrics.ts';
import { planTarget, runProbe, type KindPlan, type ProbeContext } from './kinds/plan.ts';
import { PlanParts } from './probe.ts';
import { inShard, nextSlot, slotOffset, slotStart, type Shard } from './schedule.ts';
import { compilePattern, type Target } from './target.ts';

export interface ProberOptions {
  /** Every target of every tenant; the prober keeps its shard's. */
  readonly targets: () => Promise<Iterable<Target>>;
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
  readonly #inFlight = new Set<Promise<void>>();
  #stopped = false;

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
    const loop = () => {
      this.#refreshTimer = setTimeout(() => {
        this.refresh()
          .catch((err: unknown) =>
            this.#o.logger.error({ err }, 'reading targets failed; keeping the current set'),
          )
          .finally(() => !this.#stopped && loop());
      }, this.#o.refreshMs);
      this.#refreshTimer.unref();
    };
    loop();
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
    const all = await this.#o.targets();
    if (this.#stopped) return;
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
    for (const target of all) {
      const key = identity(target);
      // A paused target is not scheduled: dropped from `next`, its entry is removed below.
      if (!inShard(key, this.#o.shard) || target.paused === true) continue;
      const old = this.#entries.get(key);
      if (old && old.updatedAt === target.updatedAt) {
        next.set(key, old);
        continue;
      }
      if (old) old.removed = true;
      const intervalMs = target.intervalSeconds * 1000;
      const offsetMs = slotOffset(key, intervalMs);
      const slot = nextSlot(now, intervalMs, offsetMs);
      const { plan, limitKey } = planTarget(target, parts);
      const entry: Entry = {
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
        removed: false,
      };
      next.set(key, entry);
      this.#heap.push(entry);
    }
    for (const [key, old] of this.#entries) if (!next.has(key)) old.removed = true;
    this.#entries = next;
    this.#version = version;
    this.#o.metrics.targets.set(next.size);
    this.#arm();
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
      if (entry.running) this.#o.metrics.skipped.inc();
      else this.#dispatch(entry, entry.slot, entry.due);
      // Next slot from the slot, not from now: no drift. A stalled process skips missed slots.
      let slot = entry.slot + 1;
      const behind = nextSlot(now, entry.intervalMs, entry.offsetMs);
      if (behind > slot) {
        this.#o.metrics.skipped.inc(behind - slot);
        slot = behind;
      }
      entry.slot = slot;
      entry.due = slotStart(slot, entry.intervalMs, entry.offsetMs);
      this.#heap.push(entry);
    }
    this.#arm();
  }

  #dispatch(entry: Entry, slot: number, scheduledAt: number): void {
    entry.running = true;
    const { metrics } = this.#o;
    const run = this.#limit
      .run(entry.host, async () => {
        metrics.waiting.set(this.#limit.waiting);
        metrics.running.set(this.#limit.running);
        if (this.#stopped) return;
        const result = await runProbe(
          entry.plan,
          { tenant: entry.tenant, target: entry.id, scheduledAt },
          this.#o.probeContext,
        );
        // A heartbeat target not yet pushed to in its first interval is pending: no check for the slot.
        if (!result) return;
        metrics.jitter.observe(Math.max(0, result.startedAt - scheduledAt) / 1000);
        metrics.checks.inc({ outcome: result.ok ? 'up' : 'down', class: result.error?.class ?? '' });
        const check: Check = {
          ...result,
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
        this.#inFlight.delete(run);
        metrics.running.set(this.#limit.running);
      });
    this.#inFlight.add(run);
    metrics.waiting.set(this.#limit.waiting);
  }

  /** Stops scheduling and waits for running checks to finish (each is bounded by its timeout). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#refreshTimer);
    await this.#refreshing?.catch(() => undefined);
    await Promise.all([...this.#inFlight]);
  }
}
