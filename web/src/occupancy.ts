import { ApiError, type Api } from './api.ts';

/** A weekly opening of a space, in the server's occupancy time zone. */
export interface OpenHours {
  readonly days: readonly string[];
  readonly from: string;
  readonly to: string;
}

/** A space as `GET /v1/spaces` lists it (its parent is the one it has now). */
export interface Space {
  readonly id: string;
  readonly name: string;
  readonly parent: string | null;
  readonly capacity?: number | null;
  readonly alertAfterMinutes?: number | null;
  readonly openHours?: readonly OpenHours[] | null;
  /** Every parent it has had, on `GET /v1/spaces/:id`. */
  readonly parents?: readonly { parent: string | null; from: string | null; to: string | null }[];
}

/** A space's count: corrected (`count`) and raw. */
export interface Count {
  readonly space: string;
  readonly count: number;
  readonly raw: number;
  readonly asOf: string;
}

export interface Tally {
  readonly count: number;
  readonly raw: number;
}

/** One bucket of `GET /v1/spaces/:id/counts`. */
export interface Bucket {
  readonly start: string;
  readonly end: string;
  readonly startCount: Tally;
  readonly endCount: Tally;
  readonly peak: Tally;
  readonly average: Tally;
  readonly overCapacityMs: number | null;
  readonly entries: number;
  readonly exits: number;
  readonly lateEvents: number;
  readonly provisional: boolean;
}

/** A headcount correction. */
export interface Correction {
  readonly id: string;
  readonly space: string;
  readonly at: string;
  readonly count: number;
  readonly note: string;
  readonly createdAt: string;
  readonly createdBy: string;
}

/** `GET /v1/spaces/:id/counts`. */
export interface Series {
  readonly capacity: number | null;
  readonly summary: {
    readonly peak: Tally;
    readonly average: Tally;
    readonly overCapacityMs: number | null;
    readonly entries: number;
    readonly exits: number;
    readonly lateEvents: number;
  };
  readonly buckets: readonly Bucket[];
  readonly corrections: readonly Correction[];
}

/** An anchor of `GET /v1/spaces/:id/corrections`: a daily reset or a headcount. */
export interface Anchor {
  readonly kind: 'reset' | 'headcount';
  readonly at: string;
  readonly count: number;
  readonly correction: Correction | null;
}

export interface Doorway {
  readonly id: string;
  readonly name: string;
  readonly a: string;
  readonly b: string | null;
}

export interface Sensor {
  readonly id: string;
  readonly name: string;
}

export interface Placement {
  readonly id: string;
  readonly sensor: string;
  readonly doorway: string;
  readonly positive: 'a' | 'b';
  readonly from: string;
  readonly to: string | null;
}

export interface UnplacedEvent {
  readonly key: string;
  readonly sensor: string;
  readonly ts: string;
  readonly direction: number;
  readonly receivedAt: string;
}

export interface SensorHealth {
  readonly sensor: string;
  readonly name: string;
  readonly status: 'ok' | 'silent' | 'unplaced';
  readonly placement: string | null;
  readonly doorway: string | null;
  readonly space: string | null;
  readonly lastEventAt: string | null;
  readonly lastReceivedAt: string | null;
  readonly silentForMs: number | null;
}

export interface DoorwayDrift {
  readonly doorway: string;
  readonly name: string;
  readonly a: string;
  readonly b: string | null;
  readonly days: readonly { day: string; in: number; out: number; complete: boolean; flagged: boolean }[];
}

export interface Alert {
  readonly id: string;
  readonly kind: 'capacity' | 'silent' | 'drift';
  readonly subject: string;
  readonly space: string | null;
  readonly openedAt: string;
  readonly closedAt: string | null;
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface Notification {
  readonly id: string;
  readonly type: string;
  readonly createdAt: string;
  readonly attempts: number;
  readonly deliveredAt: string | null;
  readonly lastError: string | null;
  readonly event: { readonly summary: string };
}

export interface AuditEntry {
  readonly id: string;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly space: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

/** A space with the spaces inside it, for the hierarchy view. */
export interface SpaceNode {
  readonly space: Space;
  readonly children: SpaceNode[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A page of a listing: its items and the cursor of the next page. */
export function pageOf<T>(body: unknown): { items: T[]; next: string | null } {
  if (
    !isRecord(body) ||
    !Array.isArray(body.items) ||
    !(body.next === null || typeof body.next === 'string')
  ) {
    throw new ApiError(200, 'BAD_RESPONSE', 'The server sent a list in an unknown shape');
  }
  return { items: body.items as T[], next: body.next };
}

/** Every item of a paged listing, following `next` to the end. */
export async function listAll<T>(api: Api, path: string, signal?: AbortSignal): Promise<T[]> {
  const items: T[] = [];
  const sep = path.includes('?') ? '&' : '?';
  let after: string | null = null;
  do {
    const query: string = after === null ? '' : `&after=${encodeURIComponent(after)}`;
    const page = pageOf<T>(await api.getJson(`${path}${sep}limit=1000${query}`, signal));
    items.push(...page.items);
    after = page.next;
  } while (after !== null);
  return items;
}

const enc = encodeURIComponent;

export function loadSpaces(api: Api, signal?: AbortSignal): Promise<Space[]> {
  return listAll<Space>(api, '/v1/spaces', signal);
}

export async function loadCounts(api: Api, signal?: AbortSignal): Promise<Map<string, Count>> {
  const counts = await listAll<Count>(api, '/v1/counts', signal);
  return new Map(counts.map((c) => [c.space, c]));
}

/** A period of the space page and the bucket size its chart uses. */
export type Period = 'day' | 'week' | 'month';
export const BUCKET_OF: Readonly<Record<Period, string>> = { day: '5m', week: '1h', month: '1h' };

export function seriesQuery(range: { from: Date; to: Date; interval: string }): string {
  return new URLSearchParams({
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    interval: range.interval,
  }).toString();
}

export async function loadSeries(
  api: Api,
  space: string,
  range: { from: Date; to: Date; interval: string },
  signal?: AbortSignal,
): Promise<Series> {
  const body = await api.getJson(`/v1/spaces/${enc(space)}/counts?${seriesQuery(range)}`, signal);
  if (!isRecord(body) || !Array.isArray(body.buckets)) {
    throw new ApiError(200, 'BAD_RESPONSE', 'The server sent a series in an unknown shape');
  }
  return body as unknown as Series;
}

/** The occupancy calls the dashboard makes, over one token's `Api`. */
export const occupancy = {
  space: (api: Api, id: string, signal?: AbortSignal) =>
    api.getJson(`/v1/spaces/${enc(id)}`, signal) as Promise<Space>,
  countAt: (api: Api, id: string, at: Date) =>
    api.getJson(`/v1/spaces/${enc(id)}/count?at=${enc(at.toISOString())}`) as Promise<Count>,
  count: (api: Api, id: string, signal?: AbortSignal) =>
    api.getJson(`/v1/spaces/${enc(id)}/count`, signal) as Promise<Count>,
  csv: (api: Api, id: string, range: { from: Date; to: Date; interval: string }) =>
    api.getText(`/v1/spaces/${enc(id)}/counts.csv?${seriesQuery(range)}`),
  createSpace: (
    api: Api,
    body: { id?: string; name: string; parent: string | null; capacity?: number | null },
  ) => api.send('POST', '/v1/spaces', body) as Promise<Space>,
  changeSpace: (
    api: Api,
    id: string,
    change: {
      name?: string;
      capacity?: number | null;
      alertAfterMinutes?: number | null;
      openHours?: OpenHours[] | null;
    },
  ) => api.send('PATCH', `/v1/spaces/${enc(id)}`, change) as Promise<Space>,
  deleteSpace: (api: Api, id: string) => api.send('DELETE', `/v1/spaces/${enc(id)}`),
  moveSpace: (api: Api, id: string, parent: string | null, at: Date) =>
    api.send('POST', `/v1/spaces/${enc(id)}/moves`, { parent, at: at.toISOString() }),
  undoMove: (api: Api, id: string, at: string) =>
    api.send('DELETE', `/v1/spaces/${enc(id)}/moves/${enc(at)}`),
  anchors: (api: Api, id: string, from: Date, to: Date, signal?: AbortSignal) =>
    listAll<Anchor>(
      api,
      `/v1/spaces/${enc(id)}/corrections?from=${enc(from.toISOString())}&to=${enc(to.toISOString())}`,
      signal,
    ),
  correct: (api: Api, id: string, body: { at: string; count: number; note?: string }) =>
    api.send('POST', `/v1/spaces/${enc(id)}/corrections`, body) as Promise<Correction>,
  deleteCorrection: (api: Api, id: string, correction: string) =>
    api.send('DELETE', `/v1/spaces/${enc(id)}/corrections/${enc(correction)}`),
  audit: async (api: Api, space: string, signal?: AbortSignal) =>
    pageOf<AuditEntry>(await api.getJson(`/v1/occupancy-audit?space=${enc(space)}&limit=50`, signal)).items,
  spaceHealth: (api: Api, id: string, signal?: AbortSignal) =>
    api.getJson(`/v1/spaces/${enc(id)}/health?days=7`, signal) as Promise<{
      sensors: SensorHealth[];
      doorways: DoorwayDrift[];
    }>,
  doorways: (api: Api, signal?: AbortSignal) => listAll<Doorway>(api, '/v1/doorways', signal),
  createDoorway: (api: Api, body: { id?: string; name: string; a: string; b: string | null }) =>
    api.send('POST', '/v1/doorways', body) as Promise<Doorway>,
  deleteDoorway: (api: Api, id: string) => api.send('DELETE', `/v1/doorways/${enc(id)}`),
  sensors: (api: Api, signal?: AbortSignal) => listAll<Sensor>(api, '/v1/sensors', signal),
  createSensor: (api: Api, body: { id?: string; name: string }) =>
    api.send('POST', '/v1/sensors', body) as Promise<Sensor>,
  deleteSensor: (api: Api, id: string) => api.send('DELETE', `/v1/sensors/${enc(id)}`),
  placements: (api: Api, signal?: AbortSignal) => listAll<Placement>(api, '/v1/placements', signal),
  place: (
    api: Api,
    body: { sensor: string; doorway: string; positive: 'a' | 'b'; from: string; to?: string | null },
  ) => api.send('POST', '/v1/placements', body) as Promise<Placement>,
  endPlacement: (api: Api, id: string, to: Date | null) =>
    api.send('PATCH', `/v1/placements/${enc(id)}`, {
      to: to === null ? null : to.toISOString(),
    }) as Promise<Placement>,
  deletePlacement: (api: Api, id: string) => api.send('DELETE', `/v1/placements/${enc(id)}`),
  unplaced: async (api: Api, after: string | null, sensor: string, signal?: AbortSignal) =>
    pageOf<UnplacedEvent>(
      await api.getJson(
        `/v1/sensor-events/unplaced?limit=100${after ? `&after=${enc(after)}` : ''}${sensor ? `&sensor=${enc(sensor)}` : ''}`,
        signal,
      ),
    ),
  sensorHealth: (api: Api, signal?: AbortSignal) => listAll<SensorHealth>(api, '/v1/sensor-health', signal),
  drift: async (api: Api, signal?: AbortSignal) =>
    pageOf<DoorwayDrift>(await api.getJson('/v1/doorway-drift?days=7&limit=100', signal)).items,
  alerts: async (api: Api, subject?: string, signal?: AbortSignal) =>
    pageOf<Alert>(
      await api.getJson(`/v1/occupancy-alerts?limit=50${subject ? `&subject=${enc(subject)}` : ''}`, signal),
    ).items,
  notifications: async (api: Api, signal?: AbortSignal) =>
    pageOf<Notification>(await api.getJson('/v1/occupancy-notifications?limit=50', signal)).items,
};

/** A `{type: "count"}` frame from /v1/stream, or undefined for anything else. */
export function countFrame(frame: Readonly<Record<string, unknown>>): Count | undefined {
  if (
    frame.type === 'count' &&
    typeof frame.space === 'string' &&
    typeof frame.count === 'number' &&
    typeof frame.raw === 'number' &&
    typeof frame.asOf === 'string'
  ) {
    return { space: frame.space, count: frame.count, raw: frame.raw, asOf: frame.asOf };
  }
  return undefined;
}

/** Arranges spaces into trees by parent, each level sorted by name. A space whose parent is missing is a root. */
export function buildTree(spaces: readonly Space[]): SpaceNode[] {
  const nodes = new Map(spaces.map((space) => [space.id, { space, children: [] as SpaceNode[] }]));
  const roots: SpaceNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.space.parent === null ? undefined : nodes.get(node.space.parent);
    (parent ? parent.children : roots).push(node);
  }
  const sort = (list: SpaceNode[]) => {
    list.sort((a, b) => a.space.name.localeCompare(b.space.name) || a.space.id.localeCompare(b.space.id));
    for (const n of list) sort(n.children);
  };
  sort(roots);
  return roots;
}

/** The spaces inside `id` (itself included), which cannot become its parent. */
export function descendants(spaces: readonly Space[], id: string): Set<string> {
  const out = new Set([id]);
  for (let grew = true; grew;) {
    grew = false;
    for (const s of spaces) {
      if (s.parent !== null && out.has(s.parent) && !out.has(s.id)) {
        out.add(s.id);
        grew = true;
      }
    }
  }
  return out;
}

/**
 * Columns for the space chart: times in seconds, then occupancy (corrected, at each bucket's end),
 * raw, the capacity (a flat line, null without one), and the provisional part of the occupancy (the
 * same values where a bucket is provisional, null elsewhere, drawn apart).
 */
export function chartColumns(
  buckets: readonly Bucket[],
  capacity: number | null,
): [number[], number[], number[], (number | null)[], (number | null)[]] {
  const x: number[] = [];
  const count: number[] = [];
  const raw: number[] = [];
  const cap: (number | null)[] = [];
  const provisional: (number | null)[] = [];
  buckets.forEach((b, i) => {
    x.push(Date.parse(b.start) / 1000);
    count.push(b.endCount.count);
    raw.push(b.endCount.raw);
    cap.push(capacity);
    // The provisional line starts at the last final point, so the two join.
    const next = buckets[i + 1];
    provisional.push(b.provisional || next?.provisional === true ? b.endCount.count : null);
  });
  return [x, count, raw, cap, provisional];
}

/** The local period containing `date`: a day, the week from Monday, or the calendar month. */
export function periodOf(period: Period, date: Date): { from: Date; to: Date } {
  const y = date.getFullYear();
  const m = date.getMonth();
  const d = date.getDate();
  if (period === 'day') return { from: new Date(y, m, d), to: new Date(y, m, d + 1) };
  if (period === 'week') {
    const monday = d - ((date.getDay() + 6) % 7);
    return { from: new Date(y, m, monday), to: new Date(y, m, monday + 7) };
  }
  return { from: new Date(y, m, 1), to: new Date(y, m + 1, 1) };
}

/** The period before (`-1`) or after (`1`) the one containing `date`, as a date inside it. */
export function shiftPeriod(period: Period, date: Date, by: -1 | 1): Date {
  const { from } = periodOf(period, date);
  if (period === 'day') return new Date(from.getFullYear(), from.getMonth(), from.getDate() + by);
  if (period === 'week') return new Date(from.getFullYear(), from.getMonth(), from.getDate() + 7 * by);
  return new Date(from.getFullYear(), from.getMonth() + by, 1);
}

/** The local day containing `date`: [midnight, next midnight). */
export function localDay(date: Date): { from: Date; to: Date } {
  return periodOf('day', date);
}

/** `YYYY-MM-DDTHH:MM` in local time, for `<input type="datetime-local">`. */
export function localInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** "2 h 5 min" from milliseconds. */
export function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
}

/**
 * Where each placement of a doorway lies on its timeline, as fractions of [start, end): the earliest
 * placement's start to a little past the latest end (or now, for placements still in force).
 */
export function timeline(
  placements: readonly Placement[],
  now: number,
): { start: number; end: number; bars: { placement: Placement; left: number; width: number }[] } {
  if (placements.length === 0) return { start: now, end: now, bars: [] };
  const start = Math.min(...placements.map((p) => Date.parse(p.from)));
  const latest = Math.max(now, ...placements.map((p) => (p.to === null ? now : Date.parse(p.to))));
  const end = latest + (latest - start) * 0.05 + 1;
  return {
    start,
    end,
    // A placement still in force runs to the right edge.
    bars: placements.map((placement) => {
      const from = Date.parse(placement.from);
      const to = placement.to === null ? end : Date.parse(placement.to);
      return { placement, left: (from - start) / (end - start), width: (to - from) / (end - start) };
    }),
  };
}
