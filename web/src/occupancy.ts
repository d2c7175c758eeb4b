import { ApiError, type Api } from './api.ts';

/** A space as `GET /v1/spaces` lists it. */
export interface Space {
  readonly id: string;
  readonly name: string;
  readonly parent: string | null;
}

/** A space's count: corrected (`count`) and raw. */
export interface Count {
  readonly space: string;
  readonly count: number;
  readonly raw: number;
  readonly asOf: string;
}

/** One bucket of `GET /v1/spaces/:id/counts`. */
export interface Bucket {
  readonly start: string;
  readonly end: string;
  readonly startCount: { readonly count: number; readonly raw: number };
  readonly endCount: { readonly count: number; readonly raw: number };
  readonly peak: { readonly count: number; readonly raw: number };
  readonly entries: number;
  readonly exits: number;
  readonly lateEvents: number;
  readonly provisional: boolean;
}

/** A space with the spaces inside it, for the hierarchy view. */
export interface SpaceNode {
  readonly space: Space;
  readonly children: SpaceNode[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pageOf(body: unknown): { items: unknown[]; next: string | null } {
  if (
    !isRecord(body) ||
    !Array.isArray(body.items) ||
    !(body.next === null || typeof body.next === 'string')
  ) {
    throw new ApiError(200, 'BAD_RESPONSE', 'The server sent a list in an unknown shape');
  }
  return { items: body.items, next: body.next };
}

/** Every item of a paged listing, following `next` to the end. */
async function listAll(api: Api, path: string, signal?: AbortSignal): Promise<unknown[]> {
  const items: unknown[] = [];
  let after: string | null = null;
  do {
    const query: string = after === null ? '' : `&after=${encodeURIComponent(after)}`;
    const page = pageOf(await api.getJson(`${path}?limit=1000${query}`, signal));
    items.push(...page.items);
    after = page.next;
  } while (after !== null);
  return items;
}

export async function loadSpaces(api: Api, signal?: AbortSignal): Promise<Space[]> {
  return (await listAll(api, '/v1/spaces', signal)) as Space[];
}

export async function loadCounts(api: Api, signal?: AbortSignal): Promise<Map<string, Count>> {
  const counts = (await listAll(api, '/v1/counts', signal)) as Count[];
  return new Map(counts.map((c) => [c.space, c]));
}

export async function loadSeries(
  api: Api,
  space: string,
  range: { from: Date; to: Date; interval: string },
  signal?: AbortSignal,
): Promise<Bucket[]> {
  const params = new URLSearchParams({
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    interval: range.interval,
  });
  const body = await api.getJson(`/v1/spaces/${encodeURIComponent(space)}/counts?${params}`, signal);
  if (!isRecord(body) || !Array.isArray(body.buckets)) {
    throw new ApiError(200, 'BAD_RESPONSE', 'The server sent a series in an unknown shape');
  }
  return body.buckets as Bucket[];
}

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

/** Columns for the day chart: times in seconds, occupancy (corrected and raw), entries, exits. */
export function chartColumns(buckets: readonly Bucket[]): [number[], number[], number[], number[], number[]] {
  const x: number[] = [];
  const count: number[] = [];
  const raw: number[] = [];
  const entries: number[] = [];
  const exits: number[] = [];
  for (const b of buckets) {
    x.push(Date.parse(b.start) / 1000);
    count.push(b.endCount.count);
    raw.push(b.endCount.raw);
    entries.push(b.entries);
    exits.push(b.exits);
  }
  return [x, count, raw, entries, exits];
}

/** The local calendar day containing `date`: [midnight, next midnight). */
export function localDay(date: Date): { from: Date; to: Date } {
  const from = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  const to = new Date(date.getFullYear(), date.getMonth(), date.getDate() + 1);
  return { from, to };
}
