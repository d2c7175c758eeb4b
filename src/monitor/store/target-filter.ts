import type { CheckRow } from '../model.ts';
import { stateOf } from '../model.ts';
import type { TargetFilter } from './repositories.ts';

/** How one SQL dialect reads a target's JSON spec (`t.spec`) and numbers parameters. */
export interface SpecDialect {
  /** The text of a top-level spec field, or NULL. */
  readonly text: (field: string) => string;
  /** True when the spec says `paused: true`. */
  readonly paused: string;
  /** A condition: the spec's tags hold the parameter `p`. */
  readonly hasTag: (p: string) => string;
  /** Case-folded text of the id and every field searched, one line each. */
  readonly haystack: string;
  /** A condition: parameter `p` (folded already) occurs in `haystack`. */
  readonly contains: (haystack: string, p: string) => string;
  /** The spec as text. */
  readonly specText: string;
  /** A condition: the target's id is one of parameter `p`, which holds `idList(ids)`. */
  readonly idIn: (p: string) => string;
  /** A list of ids as one parameter. */
  readonly idList: (ids: readonly string[]) => unknown;
  /** The placeholder of the next parameter. */
  readonly param: (index: number) => string;
}

/** The spec fields a search looks in besides the id. */
export const SEARCHED_FIELDS = ['name', 'url', 'host', 'query'] as const;

/**
 * The WHERE conditions (joined with AND, over `t` the target; the current check is looked up only
 * by a state filter, so a count reads one table) and their parameters; parameters are numbered
 * from `first`.
 */
export function targetFilterSql(
  f: TargetFilter,
  d: SpecDialect,
  first = 1,
): { readonly where: string; readonly params: unknown[] } {
  const params: unknown[] = [];
  const p = (value: unknown) => {
    params.push(value);
    return d.param(first + params.length - 1);
  };
  const where = [`t.tenant = ${p(f.tenant)}`];
  if (f.q !== undefined && f.q !== '') {
    const q = f.q.toLowerCase();
    // The spec's text holds every searched field as JSON: a cheap first pass over it (and the id)
    // before the exact test reads the fields, unless JSON would have escaped the text.
    if (JSON.stringify(q) === `"${q}"`) {
      // (Each use its own parameter: SQLite's `?` are numbered by position.)
      where.push(`(${d.contains('lower(t.id)', p(q))} OR ${d.contains(`lower(${d.specText})`, p(q))})`);
      where.push(d.contains(d.haystack, p(q)));
    } else where.push(d.contains(d.haystack, p(q)));
  }
  if (f.ids !== undefined) where.push(d.idIn(p(d.idList(f.ids))));
  if (f.kind !== undefined) where.push(`COALESCE(${d.text('kind')}, 'http') = ${p(f.kind)}`);
  if (f.tag !== undefined) {
    // A tag is in the spec's text as its JSON string: found there first, then in the tags array.
    where.push(d.contains(d.specText, p(JSON.stringify(f.tag))));
    where.push(d.hasTag(p(f.tag)));
  }
  // A paused spec's text says so (`"paused":true`, as JSON.stringify writes it): tested first, so
  // most rows are decided without reading their JSON.
  const saysPaused = d.contains(d.specText, `'"paused":true'`);
  if (f.state === 'paused') where.push(`(${saysPaused} AND ${d.paused})`);
  else if (f.state !== undefined) {
    where.push(`(NOT (${saysPaused}) OR NOT (${d.paused}))`);
    const current = 'SELECT 1 FROM monitor_current cur WHERE cur.tenant = t.tenant AND cur.target = t.id';
    where.push(
      f.state === 'unknown' ? `NOT EXISTS (${current})` : `EXISTS (${current} AND cur.state = ${p(f.state)})`,
    );
  }
  return { where: where.join(' AND '), params };
}

/**
 * Each target's newest check among `checks`: the latest slot, and of checks of one slot the first
 * region in name order (so every backend keeps the same one).
 */
export function newestPerTarget(checks: readonly CheckRow[]): CheckRow[] {
  const newest = new Map<string, CheckRow>();
  for (const c of checks) {
    const key = `${c.tenant}\u0000${c.target}`;
    const held = newest.get(key);
    if (
      !held ||
      c.scheduledAt > held.scheduledAt ||
      (c.scheduledAt === held.scheduledAt && c.region < held.region)
    )
      newest.set(key, c);
  }
  return [...newest.values()];
}

/** A `monitor_current` row's values: tenant, target, at, region, state, body (the check as JSON). */
export const currentValues = (c: CheckRow): unknown[] => [
  c.tenant,
  c.target,
  c.scheduledAt,
  c.region,
  stateOf(c),
  JSON.stringify(c),
];
