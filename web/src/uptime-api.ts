import { ApiError, type Api } from './api.ts';

/** One check as `GET /v1/targets/:id/checks` lists it. */
export interface CheckView {
  readonly target: string;
  readonly region: string;
  readonly slot: number;
  readonly scheduledAt: string;
  readonly startedAt: string;
  readonly ok: boolean;
  readonly durationMs: number;
  readonly phases: {
    readonly dnsMs: number;
    readonly connectMs: number;
    readonly tlsMs: number;
    readonly ttfbMs: number;
    readonly transferMs: number;
  };
  readonly status: number | null;
  readonly error: { readonly class: string; readonly detail: string } | null;
  /** Absent in live records of http checks made before states: read `ok`. */
  readonly state?: CheckState;
}

/** A check's outcome. */
export type CheckState = 'up' | 'down' | 'degraded' | 'maintenance';

/** A check's state, for checks that predate states too. */
export const stateOf = (c: Pick<CheckView, 'ok' | 'state'>): CheckState => c.state ?? (c.ok ? 'up' : 'down');

/** One assertion of an http target. */
export interface AssertionView {
  readonly type: 'json' | 'header' | 'responseTime';
  readonly path?: string;
  readonly name?: string;
  readonly op: string;
  readonly value?: unknown;
}

/** One target as `GET /v1/targets` lists it. */
export interface TargetView {
  readonly id: string;
  readonly kind: 'http' | 'tcp' | 'dns' | 'push' | 'icmp';
  readonly name?: string;
  /** http */
  readonly url?: string;
  readonly assertions?: readonly AssertionView[];
  /** tcp and icmp */
  readonly host?: string;
  readonly port?: number;
  readonly tls?: boolean;
  /** dns */
  readonly query?: string;
  readonly recordType?: string;
  readonly resolver?: string;
  readonly expect?: readonly string[];
  /** push */
  readonly pushToken?: string;
  readonly graceSeconds?: number;
  readonly degradedAboveMs?: number;
  readonly tags: readonly string[];
  readonly intervalSeconds: number;
  readonly source: 'api' | 'file';
  readonly state: CheckState | 'unknown';
  readonly lastCheck: CheckView | null;
  readonly uptime: { readonly h24: number | null; readonly d7: number | null; readonly d30: number | null };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function itemsOf<T>(body: unknown, what: string): { items: T[]; next: string | null } {
  if (!isRecord(body) || !Array.isArray(body.items)) {
    throw new ApiError(200, 'BAD_RESPONSE', `The server sent ${what} in an unknown shape`);
  }
  return { items: body.items as T[], next: typeof body.next === 'string' ? body.next : null };
}

/** Every target of the tenant, following the cursor. */
export async function listTargets(api: Api, signal?: AbortSignal): Promise<TargetView[]> {
  const all: TargetView[] = [];
  let after: string | null = null;
  do {
    const page: { items: TargetView[]; next: string | null } = itemsOf<TargetView>(
      await api.getJson(`/v1/targets?limit=500${after ? `&after=${after}` : ''}`, signal),
      'a target list',
    );
    all.push(...page.items);
    after = page.next;
  } while (after);
  return all;
}

export async function getTarget(api: Api, id: string, signal?: AbortSignal): Promise<TargetView> {
  return (await api.getJson(`/v1/targets/${encodeURIComponent(id)}`, signal)) as TargetView;
}

/** The newest `limit` checks of a target, newest first. */
export async function listChecks(
  api: Api,
  id: string,
  limit: number,
  signal?: AbortSignal,
): Promise<CheckView[]> {
  return itemsOf<CheckView>(
    await api.getJson(`/v1/targets/${encodeURIComponent(id)}/checks?limit=${limit}`, signal),
    'a check list',
  ).items;
}

/** One incident as `GET /v1/targets/:id/incidents` lists it. */
export interface IncidentView {
  readonly region: string;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly cause: string;
  readonly detail: string;
}

export async function listIncidents(api: Api, id: string, signal?: AbortSignal): Promise<IncidentView[]> {
  return itemsOf<IncidentView>(
    await api.getJson(`/v1/targets/${encodeURIComponent(id)}/incidents?limit=50`, signal),
    'an incident list',
  ).items;
}

/** What a target checks, in a few words. */
export function addressOf(t: TargetView): string {
  switch (t.kind) {
    case 'tcp':
      return `${t.tls ? 'tls' : 'tcp'}://${t.host ?? ''}:${t.port ?? ''}`;
    case 'dns':
      return `${t.recordType ?? 'A'} ${t.query ?? ''}${t.resolver ? ` @${t.resolver}` : ''}`;
    case 'push':
      return `push to /v1/push/${t.pushToken ?? '…'}`;
    case 'icmp':
      return `ping ${t.host ?? ''}`;
    default:
      return t.url ?? '';
  }
}
