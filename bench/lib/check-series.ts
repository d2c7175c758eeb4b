/**
 * Realistic check series for storage benchmarks, deterministic per seed. Per target: a base latency
 * from a log-normal distribution (median 80 ms) split into phases the way a real request spends it
 * (DNS, connect ≈ one round trip, TLS ≈ two, first byte ≈ one plus server time, transfer), per-check
 * jitter on every phase, rare spikes, bursts of failures (timeouts, refused connections, 503s),
 * mostly-constant status, body size and certificate, the odd missed slot, and some targets checked
 * from a second region. Latencies are at the prober's 0.01 ms resolution, start times whole ms.
 */
import type { CheckRow, ErrorClass } from '../../src/monitor/model.ts';
import { slotOffset, slotStart } from '../../src/monitor/schedule.ts';
import { random } from '../../test/helpers/random.ts';

/** A standard normal draw (Box–Muller). */
function normal(rnd: () => number): number {
  return Math.sqrt(-2 * Math.log(rnd() || Number.MIN_VALUE)) * Math.cos(2 * Math.PI * rnd());
}

const hundredths = (ms: number) => Math.max(0, Math.round(ms * 100) / 100);

interface Profile {
  readonly id: string;
  readonly regions: readonly string[];
  readonly https: boolean;
  readonly rtt: number;
  readonly dns: number;
  readonly server: number;
  readonly transfer: number;
  readonly bytes: number;
  /** Body size changes from check to check (a page with a timestamp or a counter in it). */
  readonly dynamic: boolean;
  readonly tlsExpiresAt: number | null;
  readonly offsetMs: number;
}

/** One target's stable character, drawn from `rnd`. */
function profile(
  tenant: string,
  index: number,
  intervalMs: number,
  start: number,
  rnd: () => number,
): Profile {
  const id = `target-${index}`;
  // Base latency: log-normal with median 80 ms (σ 0.7: most between 20 ms and 320 ms).
  const base = 80 * Math.exp(0.7 * normal(rnd));
  const https = rnd() < 0.8;
  const rtt = base * 0.22;
  return {
    id,
    regions: rnd() < 0.15 ? ['eu-west', 'us-east'] : ['eu-west'],
    https,
    rtt,
    dns: 1 + rnd() * 8,
    server: base * (https ? 0.2 : 0.5),
    transfer: base * 0.08,
    bytes: Math.floor(2_000 + rnd() * 60_000),
    dynamic: rnd() < 0.3,
    tlsExpiresAt: https ? Math.floor((start + (10 + rnd() * 80) * 86_400_000) / 1000) * 1000 : null,
    offsetMs: slotOffset(`${tenant}/${id}`, intervalMs),
  };
}

/** A failure burst in progress: its class and how many more checks it lasts. */
interface Outage {
  readonly error: ErrorClass;
  left: number;
}

/**
 * Checks of `targets` targets at `intervalSeconds`, over [from, to), in time order per target and
 * interleaved across targets the way a prober's batches are (all targets' checks of one slot, then
 * the next). Calls `emit` with batches of about `batch` checks.
 */
export function* checkSeries(options: {
  readonly tenant?: string;
  readonly targets: number;
  readonly intervalSeconds: number;
  readonly from: number;
  readonly to: number;
  readonly seed?: number;
}): Generator<CheckRow> {
  const tenant = options.tenant ?? 'default';
  const intervalMs = options.intervalSeconds * 1000;
  const rnd = random(options.seed ?? 15);
  const profiles = Array.from({ length: options.targets }, (_, i) =>
    profile(tenant, i, intervalMs, options.from, rnd),
  );
  const outages = new Map<string, Outage>();
  const firstSlot = Math.ceil(options.from / intervalMs);
  const lastSlot = Math.floor(options.to / intervalMs);
  for (let step = firstSlot; step < lastSlot; step++) {
    for (const p of profiles) {
      for (const region of p.regions) {
        const scheduledAt = slotStart(step, intervalMs, p.offsetMs);
        if (scheduledAt < options.from || scheduledAt >= options.to) continue;
        // A missed slot (the prober was restarting, say) now and then.
        if (rnd() < 0.001) continue;
        const key = `${p.id}@${region}`;
        let outage = outages.get(key);
        if (!outage && rnd() < 0.0015) {
          const r = rnd();
          outage = {
            error: r < 0.4 ? 'timeout' : r < 0.7 ? 'refused' : r < 0.9 ? 'status' : 'dns',
            left: 2 + Math.floor(rnd() * 25),
          };
          outages.set(key, outage);
        }
        yield check(tenant, p, region, step, scheduledAt, outage, rnd);
        if (outage && --outage.left <= 0) outages.delete(key);
      }
    }
  }
}

function check(
  tenant: string,
  p: Profile,
  region: string,
  slot: number,
  scheduledAt: number,
  outage: Outage | undefined,
  rnd: () => number,
): CheckRow {
  // Schedule jitter: usually a few ms, sometimes tens.
  const startedAt = scheduledAt + Math.floor(rnd() < 0.95 ? rnd() * 6 : rnd() * 80);
  const far = region === 'us-east' ? 2.5 : 1;
  // Per-check jitter of ~8% on each phase, and a spike (×3 to ×10) on 0.5% of checks.
  const jitter = () => Math.exp(0.08 * normal(rnd));
  const spike = rnd() < 0.005 ? 3 + rnd() * 7 : 1;
  const dnsMs = hundredths(p.dns * jitter());
  const connectMs = hundredths(p.rtt * far * jitter());
  const tlsMs = p.https ? hundredths(2 * p.rtt * far * jitter()) : 0;
  const base = { tenant, target: p.id, region, slot, scheduledAt, startedAt, redirects: 0 };
  if (outage && outage.error !== 'status') {
    const timedOut = outage.error === 'timeout';
    const phases = {
      dnsMs: outage.error === 'dns' ? hundredths(p.dns * jitter() * 5) : dnsMs,
      connectMs: timedOut ? connectMs : 0,
      tlsMs: timedOut ? tlsMs : 0,
      ttfbMs: 0,
      transferMs: 0,
    };
    return {
      ...base,
      ok: false,
      durationMs: timedOut ? hundredths(10_000 + rnd() * 3) : hundredths(phases.dnsMs + connectMs + 0.2),
      phases,
      status: null,
      httpVersion: null,
      bytes: 0,
      tlsExpiresAt: timedOut ? p.tlsExpiresAt : null,
      patternMatched: null,
      error: {
        class: outage.error,
        detail:
          outage.error === 'timeout'
            ? 'no complete answer within 10000 ms'
            : outage.error === 'refused'
              ? `connect ECONNREFUSED 203.0.113.${p.id.length}:443`
              : `getaddrinfo ENOTFOUND ${p.id}.example`,
      },
    };
  }
  const failing = outage?.error === 'status';
  const ttfbMs = hundredths((p.rtt * far + p.server) * jitter() * spike);
  const transferMs = hundredths(p.transfer * jitter());
  const bytes = failing ? 612 : p.dynamic ? p.bytes + Math.floor(rnd() * 40) : p.bytes;
  return {
    ...base,
    ok: !failing,
    // The whole check takes its phases plus a little of the prober's own time.
    durationMs: hundredths(dnsMs + connectMs + tlsMs + ttfbMs + transferMs + 0.05 + rnd() * 0.3),
    phases: { dnsMs, connectMs, tlsMs, ttfbMs, transferMs },
    status: failing ? 503 : 200,
    httpVersion: '1.1',
    bytes,
    tlsExpiresAt: p.tlsExpiresAt,
    patternMatched: null,
    error: failing ? { class: 'status', detail: 'status 503 not in 200-399' } : null,
  };
}
