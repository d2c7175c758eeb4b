import type { ProbeResult } from '../model.ts';
import { planFor, probe, type PlanParts, type ProbePlan } from '../probe.ts';
import type { Push } from '../store/repositories.ts';
import type { Target } from '../target.ts';
import { probeDns, type DnsPlan } from './dns.ts';
import { probeIcmp, type IcmpPlan } from './icmp.ts';
import { judgePush, type PushPlan } from './push.ts';
import { probeTcp, type TcpPlan } from './tcp.ts';

/** A target ready to check, by kind: only what a check reads, so the prober keeps little per target. */
export type KindPlan =
  | { readonly kind: 'http'; readonly http: ProbePlan }
  | { readonly kind: 'tcp'; readonly tcp: TcpPlan }
  | { readonly kind: 'dns'; readonly dns: DnsPlan }
  | { readonly kind: 'push'; readonly push: PushPlan; readonly createdAt: number }
  | { readonly kind: 'icmp'; readonly icmp: IcmpPlan };

/** What checks need besides their plan. */
export interface ProbeContext {
  /** The newest push of a heartbeat target. */
  readonly lastPush: (tenant: string, target: string) => Promise<Push | undefined>;
  /** The system's `ping`. */
  readonly pingCommand: string;
}

/** The key a target's checks share a per-host concurrency limit by (host:port, resolver…). */
export function limitKeyOf(t: Target): string {
  switch (t.kind) {
    case undefined:
    case 'http':
      return new URL(t.url).host;
    case 'tcp':
      return `${t.host}:${t.port}`;
    case 'dns':
      return `dns:${t.resolver ?? 'system'}`;
    case 'push':
      return `push:${t.tenant}/${t.id}`;
    case 'icmp':
      return `icmp:${t.host}`;
  }
}

/** The plan of a target, and the key its checks share a per-host concurrency limit by. */
export function planTarget(t: Target, parts: PlanParts): { plan: KindPlan; limitKey: string } {
  const d = t.degradedAboveMs;
  switch (t.kind) {
    case undefined:
    case 'http':
      return { plan: { kind: 'http', http: planFor(t, parts) }, limitKey: new URL(t.url).host };
    case 'tcp':
      return {
        plan: {
          kind: 'tcp',
          tcp: {
            host: t.host,
            port: t.port,
            tls: t.tls,
            ignoreTlsErrors: t.ignoreTlsErrors,
            timeoutMs: t.timeoutMs,
            ...(t.servername === undefined ? {} : { servername: t.servername }),
            ...(d === undefined ? {} : { degradedAboveMs: d }),
          },
        },
        limitKey: `${t.host}:${t.port}`,
      };
    case 'dns':
      return {
        plan: {
          kind: 'dns',
          dns: {
            query: t.query,
            recordType: t.recordType,
            expect: t.expect,
            expectExact: t.expectExact,
            timeoutMs: t.timeoutMs,
            ...(t.resolver === undefined ? {} : { resolver: t.resolver }),
            ...(d === undefined ? {} : { degradedAboveMs: d }),
          },
        },
        limitKey: `dns:${t.resolver ?? 'system'}`,
      };
    case 'push':
      return {
        plan: {
          kind: 'push',
          push: { intervalMs: t.intervalSeconds * 1000, graceMs: t.graceSeconds * 1000, degradedAboveMs: d },
          createdAt: t.createdAt,
        },
        limitKey: `push:${t.tenant}/${t.id}`,
      };
    case 'icmp':
      return {
        plan: {
          kind: 'icmp',
          icmp: {
            host: t.host,
            packets: t.packets,
            timeoutMs: t.timeoutMs,
            ...(d === undefined ? {} : { degradedAboveMs: d }),
          },
        },
        limitKey: `icmp:${t.host}`,
      };
  }
}

/**
 * Runs one check of a plan. Undefined for a heartbeat target younger than its first interval and grace
 * that has not been pushed to yet: it is pending, not down. Never throws.
 */
export async function runProbe(
  plan: KindPlan,
  at: { readonly tenant: string; readonly target: string; readonly scheduledAt: number },
  context: ProbeContext,
): Promise<ProbeResult | undefined> {
  switch (plan.kind) {
    case 'http':
      return probe(plan.http);
    case 'tcp':
      return probeTcp(plan.tcp);
    case 'dns':
      return probeDns(plan.dns);
    case 'icmp':
      return probeIcmp(plan.icmp, context.pingCommand);
    case 'push': {
      const last = await context.lastPush(at.tenant, at.target);
      const young = at.scheduledAt - plan.createdAt < plan.push.intervalMs + plan.push.graceMs;
      if (!last && young) return undefined;
      return judgePush(plan.push, at.scheduledAt, last);
    }
  }
}
