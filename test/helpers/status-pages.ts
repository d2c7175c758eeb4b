import type { CheckRow, Rollup } from '../../src/monitor/model.ts';
import { LATENCY_BOUNDS_MS } from '../../src/monitor/rollup.ts';
import type { BeaconStore } from '../../src/roles/store.ts';

const DAY = 86_400_000;

/** A check of a target at `at`, up or failed. */
export function statusCheck(tenant: string, target: string, at: number, ok: boolean): CheckRow {
  return {
    tenant,
    target,
    region: 'eu',
    slot: Math.floor(at / 60_000),
    scheduledAt: at,
    startedAt: at + 3,
    durationMs: ok ? 40 : 1200,
    phases: { dnsMs: 1, connectMs: 2, tlsMs: 3, ttfbMs: 30, transferMs: 4 },
    status: ok ? 200 : 503,
    httpVersion: '1.1',
    bytes: 100,
    tlsExpiresAt: null,
    patternMatched: ok ? true : null,
    redirects: 0,
    ok,
    error: ok ? null : { class: 'status', detail: 'status 503' },
  };
}

/**
 * Gives targets a history as the sink would have left it: a day rollup for each of the last `days`
 * days (1440 checks, `downOf(target, daysAgo)` of them down), each target's newest check (up unless
 * it has an open incident) and, for `down` targets, an incident open since an hour ago.
 */
export async function seedHistory(
  store: BeaconStore,
  options: {
    readonly tenant: string;
    readonly targets: readonly string[];
    readonly days: number;
    readonly down?: readonly string[];
    readonly downOf?: (target: string, daysAgo: number) => number;
    readonly now?: number;
  },
): Promise<void> {
  const now = options.now ?? Date.now();
  const today = now - (now % DAY);
  const down = new Set(options.down ?? []);
  const rollups: Rollup[] = [];
  for (const target of options.targets)
    for (let ago = 0; ago < options.days; ago++) {
      const failed = options.downOf?.(target, ago) ?? 0;
      const latency = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
      latency[3] = 1440;
      rollups.push({
        tenant: options.tenant,
        target,
        region: 'eu',
        size: 'day',
        start: today - ago * DAY,
        checks: 1440,
        up: 1440 - failed,
        latencySumMs: 1440 * 40,
        latency,
        errors: failed > 0 ? { status: failed } : {},
      });
    }
  await store.transaction(async (tx) => {
    for (let i = 0; i < rollups.length; i += 1000) await tx.checks.putRollups(rollups.slice(i, i + 1000));
    await tx.checks.insert(
      options.targets.map((t) => statusCheck(options.tenant, t, now - (now % 60_000), !down.has(t))),
    );
    for (const target of down)
      await tx.checks.openIncident({
        tenant: options.tenant,
        target,
        region: 'eu',
        startedAt: now - 3_600_000,
        endedAt: null,
        cause: 'status',
        detail: 'status 503',
      });
  });
}
