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

/** A target's state in a list: its newest check's, `unknown` before one, `paused` while paused. */
export type TargetState = CheckState | 'unknown' | 'paused';
export const TARGET_STATES: readonly TargetState[] = [
  'up',
  'down',
  'degraded',
  'maintenance',
  'unknown',
  'paused',
];
export const KINDS = ['http', 'tcp', 'dns', 'icmp', 'push'] as const;
export type Kind = (typeof KINDS)[number];

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
  readonly paused?: boolean;
  readonly source: 'api' | 'file';
  readonly state: TargetState;
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

/** What a target list is filtered by on the server. */
export interface TargetQuery {
  readonly q: string;
  readonly state: TargetState | '';
  readonly tag: string;
  readonly kind: Kind | '';
}

/** A page of a filtered target list, with how many targets pass the filters. */
export interface TargetPage {
  readonly items: TargetView[];
  readonly next: string | null;
  /** On the first page only (null after). */
  readonly total: number | null;
}

/** One page of the targets that pass `query`, after the cursor `after`. */
export async function searchTargets(
  api: Api,
  query: TargetQuery,
  limit: number,
  after: string | null,
  signal?: AbortSignal,
): Promise<TargetPage> {
  const params = new URLSearchParams({ limit: String(limit) });
  for (const key of ['q', 'state', 'tag', 'kind'] as const)
    if (query[key] !== '') params.set(key, query[key]);
  if (after) params.set('after', after);
  const body = await api.getJson(`/v1/targets?${params}`, signal);
  const page = itemsOf<TargetView>(body, 'a target list');
  return {
    ...page,
    total: isRecord(body) && typeof body.total === 'number' ? body.total : page.items.length,
  };
}

/** What a target view adds to its spec; the rest is what create, PATCH and check now take. */
const VIEW_FIELDS = ['source', 'createdAt', 'updatedAt', 'state', 'lastCheck', 'uptime'] as const;

/** The spec of a target as the API takes it back (its id kept). */
export function specOfView(t: TargetView): Record<string, unknown> {
  const spec: Record<string, unknown> = { ...t };
  for (const key of VIEW_FIELDS) delete spec[key];
  return spec;
}

/** The outcome of one check-now preview. */
export interface CheckPreview extends CheckView {
  readonly patternMatched: boolean | null;
  readonly kind: string;
}

export async function checkNow(api: Api, spec: Record<string, unknown>): Promise<CheckPreview> {
  return ((await api.send('POST', '/v1/targets/check', spec)) as { check: CheckPreview }).check;
}

export type BulkAction = 'pause' | 'resume' | 'delete' | 'addTag' | 'removeTag';

/** What a bulk action did. */
export interface BulkResult {
  readonly matched: number;
  readonly changed: number;
  readonly unchanged: number;
  readonly readOnly: number;
  readonly missing: number;
  readonly failed: readonly { id: string; message: string }[];
}

export async function bulkTargets(
  api: Api,
  body: { action: BulkAction; tag?: string; ids?: string[]; value?: string },
): Promise<BulkResult> {
  return (await api.send('POST', '/v1/targets/bulk', body)) as BulkResult;
}

export async function importTargets(
  api: Api,
  yaml: string,
): Promise<{ created: number; updated: number; unchanged: number }> {
  return (await api.sendText('/v1/targets/import', 'application/yaml', yaml)) as {
    created: number;
    updated: number;
    unchanged: number;
  };
}

export function exportTargets(api: Api): Promise<string> {
  return api.getText('/v1/targets.yaml');
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
