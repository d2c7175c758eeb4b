import {
  rollupId,
  type CheckRow,
  type ErrorClass,
  type Rollup,
  type RollupKey,
  type RollupSize,
} from './model.ts';

/** Upper bounds (ms) of the latency buckets a rollup counts into; the last bucket is open-ended. */
export const LATENCY_BOUNDS_MS = [
  5, 10, 25, 50, 75, 100, 150, 200, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 30000,
] as const;

export const ROLLUP_MS: Record<RollupSize, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};
export const ROLLUP_SIZES = Object.keys(ROLLUP_MS) as RollupSize[];

function latencyBucket(ms: number): number {
  const i = LATENCY_BOUNDS_MS.findIndex((bound) => ms <= bound);
  return i === -1 ? LATENCY_BOUNDS_MS.length : i;
}

/**
 * The sizes of rollup the store keeps. Minute buckets are derived from the stored checks when read
 * (`CheckHistory.minuteRollups`): a row a minute per series cost more to write and to delete at
 * compaction than summing the checks, which are at hand in hot rows and blocks, costs a reader.
 */
export const STORED_ROLLUP_SIZES: readonly RollupSize[] = ['hour', 'day'];

/** The rollup keys (minute, hour, day, or those of `sizes`) a check counts toward. */
export function rollupKeys(check: CheckRow, sizes: readonly RollupSize[] = ROLLUP_SIZES): RollupKey[] {
  return sizes.map((size) => ({
    tenant: check.tenant,
    target: check.target,
    region: check.region,
    size,
    start: check.scheduledAt - (check.scheduledAt % ROLLUP_MS[size]),
  }));
}

const empty = (k: RollupKey): Rollup => ({
  ...k,
  checks: 0,
  up: 0,
  latencySumMs: 0,
  latency: new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0),
  errors: {},
});

/** A rollup being counted into: a copy, made once, of the stored row or of an empty one. */
type Counting = { -readonly [K in keyof Rollup]: Rollup[K] };

/**
 * Adds newly stored checks to the rollups (of every size, or of `sizes`) they belong to. `existing`
 * are the stored rows for those keys; the result is every touched rollup, ready to write back.
 * Only new checks are passed in, so a redelivered record never counts twice.
 */
export function addToRollups(
  existing: readonly Rollup[],
  checks: readonly CheckRow[],
  sizes: readonly RollupSize[] = ROLLUP_SIZES,
): Rollup[] {
  const byKey = new Map<string, Rollup>(existing.map((r) => [rollupId(r), r]));
  // Each rollup is copied the first time a check counts into it, and counted into in place after:
  // `existing` is left as it was, and a day of checks makes a copy a rollup, not a copy a check.
  const counting = new Map<string, Counting>();
  for (const check of checks) {
    for (const key of rollupKeys(check, sizes)) {
      const k = rollupId(key);
      let r = counting.get(k);
      if (!r) {
        const from = byKey.get(k) ?? empty(key);
        r = { ...from, latency: [...from.latency], errors: { ...from.errors } };
        counting.set(k, r);
        byKey.set(k, r);
      }
      (r.latency as number[])[latencyBucket(check.durationMs)]! += 1;
      const errors = r.errors as Partial<Record<ErrorClass, number>>;
      if (check.error) errors[check.error.class] = (errors[check.error.class] ?? 0) + 1;
      r.checks += 1;
      r.up += check.ok ? 1 : 0;
      r.latencySumMs += check.durationMs;
    }
  }
  return [...byKey.values()];
}

/** Merges rollups (of several regions or buckets) into one. */
export function mergeRollups(rollups: readonly Rollup[], key: RollupKey): Rollup {
  return rollups.reduce<Rollup>((acc, r) => {
    const errors: Partial<Record<ErrorClass, number>> = { ...acc.errors };
    for (const [cls, n] of Object.entries(r.errors) as [ErrorClass, number][])
      errors[cls] = (errors[cls] ?? 0) + n;
    return {
      ...acc,
      checks: acc.checks + r.checks,
      up: acc.up + r.up,
      latencySumMs: acc.latencySumMs + r.latencySumMs,
      latency: acc.latency.map((n, i) => n + (r.latency[i] ?? 0)),
      errors,
    };
  }, empty(key));
}

/**
 * The latency at quantile q (0..1) from a bucket histogram: the upper bound of the bucket holding
 * that rank, so the answer is never lower than the truth and is off by at most one bucket's width.
 */
export function quantile(latency: readonly number[], q: number): number | null {
  const total = latency.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < latency.length; i++) {
    seen += latency[i]!;
    if (seen >= rank) return LATENCY_BOUNDS_MS[i] ?? LATENCY_BOUNDS_MS.at(-1)!;
  }
  return LATENCY_BOUNDS_MS.at(-1)!;
}

/** One bucket of a target's summary, as the API returns it. */
export interface SummaryBucket {
  readonly start: number;
  readonly checks: number;
  readonly up: number;
  /** Percent of checks that were up; null when there were none. */
  readonly uptime: number | null;
  readonly latencyMs: {
    readonly avg: number | null;
    readonly p50: number | null;
    readonly p95: number | null;
    readonly p99: number | null;
  };
  readonly errors: Readonly<Partial<Record<ErrorClass, number>>>;
}

/** Summarises rollups per bucket start (all regions merged), and over the whole range. */
export function summarize(
  rollups: readonly Rollup[],
  key: Omit<RollupKey, 'start' | 'region'>,
): { buckets: SummaryBucket[]; total: SummaryBucket } {
  const byStart = new Map<number, Rollup[]>();
  for (const r of rollups) byStart.set(r.start, [...(byStart.get(r.start) ?? []), r]);
  const view = (start: number, rs: readonly Rollup[]): SummaryBucket => {
    const m = mergeRollups(rs, { ...key, region: '*', start });
    return {
      start,
      checks: m.checks,
      up: m.up,
      uptime: m.checks === 0 ? null : Math.round((m.up / m.checks) * 1e6) / 1e4,
      latencyMs: {
        avg: m.checks === 0 ? null : Math.round((m.latencySumMs / m.checks) * 100) / 100,
        p50: quantile(m.latency, 0.5),
        p95: quantile(m.latency, 0.95),
        p99: quantile(m.latency, 0.99),
      },
      errors: m.errors,
    };
  };
  const starts = [...byStart.keys()].sort((a, b) => a - b);
  return {
    buckets: starts.map((s) => view(s, byStart.get(s)!)),
    total: view(starts[0] ?? 0, rollups),
  };
}
