import type { Queryable } from '../../store/postgres/errors.ts';
import { CheckColumns } from './check-blocks.ts';
import type { HotRow, HotRun, Range } from './check-history.ts';

/**
 * Hot checks on PostgreSQL (migration 23): a row holds up to HOT_ROW_CHECKS checks of one series, their
 * times as float8[] and their bodies ({@link encodeCheck}) back to back in the same order. A heap
 * tuple costs 24 B of header and a 4 B line pointer, and its primary key entry about 40 B more in a
 * B-tree filled as keys come: one check a row was 113 B a check at rest, sixteen share that.
 *
 * A row is keyed by (series, start), its first check's time, and its checks lie in [start, the next
 * row's start): a check lives in the row of its series with the greatest start at or before it. So
 * the one row a check could be in is known, which is how a copy is found, and rows read newest first
 * give their checks newest first. No row spans an hour boundary, so compaction of whole hours or
 * days takes rows whole (a range that cuts a row writes what is left of it again, keyed anew).
 *
 * A sink keeping up writes a new check as a row of its own, and when the rows of one hour after its
 * last full row hold HOT_ROW_CHECKS checks, or that hour is over, folds them into one (see
 * {@link insertHotChecks}); a row is never grown a check at a time, as each version of it would be a
 * whole new tuple. Writers of a series take turns on the lock of its `monitor_series` row (sinks in
 * `seriesFor`, compaction in `lockSeries`, retention for a row it cuts), so what a writer read of a
 * series' rows is what it changes.
 */

/** The checks of a full row: 16 of about 35 B share a tuple of about 640 B. */
export const HOT_ROW_CHECKS = 16;
const HOUR = 3_600_000;

/** A stored row of several checks. */
interface HotRunDbRow {
  readonly start: number;
  readonly at: number[];
  readonly body: Buffer;
}

/** Bounds PostgreSQL can compare float8 with: ±Infinity as the largest doubles. */
const finite = (n: number) => Math.max(-Number.MAX_VALUE, Math.min(Number.MAX_VALUE, n));

/** SQL for the start of the row whose range holds `at` (or -Infinity when none is at or before it). */
const rowHolding = (series: string, at: string) =>
  `coalesce((SELECT max(p.start) FROM monitor_hot_checks p WHERE p.series = ${series} AND p.start <= ${at}), '-Infinity')`;

/** A float8[] literal: parameters of several rows' arrays go as text, each cast on its row. */
const arrayLiteral = (at: readonly number[]) => `{${at.join(',')}}`;

/** A row's checks one by one. */
function checksOf(row: HotRunDbRow): HotRow[] {
  const bodies = CheckColumns.splitBodies(row.body, row.at.length);
  return row.at.map((scheduledAt, i) => ({ scheduledAt, body: bodies[i]! }));
}

/** Up to `limit` hot checks of a series in `range`, newest first. */
export async function hotRowsNewestFirst(
  db: Queryable,
  series: number,
  range: Range,
  limit: number,
): Promise<HotRow[]> {
  const out: HotRow[] = [];
  const from = finite(range.from);
  // Rows a few at a time: one holds up to HOT_ROW_CHECKS checks, all older than the rows before it.
  const page = Math.ceil(limit / HOT_ROW_CHECKS) + 1;
  let below = finite(range.below);
  let inclusive = range.inclusive;
  for (;;) {
    const { rows } = await db.query<HotRunDbRow>(
      `SELECT start, at, body FROM monitor_hot_checks
       WHERE series = $1 AND start ${inclusive ? '<=' : '<'} $2 AND start >= ${rowHolding('$1', '$3')}
       ORDER BY start DESC LIMIT $4`,
      [series, below, from, page],
    );
    for (const row of rows) {
      for (const check of checksOf(row)) {
        const t = check.scheduledAt;
        if (t >= range.from && (t < range.below || (range.inclusive && t === range.below))) out.push(check);
      }
      // Every check of a later row is older than every one found so far.
      if (out.length >= limit) break;
    }
    if (out.length >= limit || rows.length < page) break;
    below = rows.at(-1)!.start;
    inclusive = false;
  }
  return out.sort((a, b) => b.scheduledAt - a.scheduledAt).slice(0, limit);
}

/** The rows of a series that may hold checks in [from, to), oldest first. */
async function rowsOver(db: Queryable, series: number, from: number, to: number) {
  const { rows } = await db.query<HotRunDbRow>(
    `SELECT start, at, body FROM monitor_hot_checks
     WHERE series = $1 AND start < $3 AND start >= ${rowHolding('$1', '$2')}
     ORDER BY start`,
    [series, finite(from), finite(to)],
  );
  return rows;
}

/** Hot checks of a series in [from, to), oldest first. */
export async function hotChecksBetween(
  db: Queryable,
  series: number,
  from: number,
  to: number,
): Promise<HotRow[]> {
  const out: HotRow[] = [];
  for (const row of await rowsOver(db, series, from, to))
    for (const check of checksOf(row))
      if (check.scheduledAt >= from && check.scheduledAt < to) out.push(check);
  return out.sort((a, b) => a.scheduledAt - b.scheduledAt);
}

/** Hot checks of a series in [from, to) as compaction reads them: whole rows' bodies as they are. */
export async function hotRunIn(db: Queryable, series: number, from: number, to: number): Promise<HotRun> {
  const at: number[] = [];
  const bodies: Buffer[] = [];
  for (const row of await rowsOver(db, series, from, to)) {
    if (row.at.every((t) => t >= from && t < to)) {
      for (const t of row.at) at.push(t);
      bodies.push(row.body);
      continue;
    }
    for (const check of checksOf(row)) {
      if (check.scheduledAt < from || check.scheduledAt >= to) continue;
      at.push(check.scheduledAt);
      bodies.push(Buffer.from(check.body.buffer, check.body.byteOffset, check.body.byteLength));
    }
  }
  return { at, bodies: Buffer.concat(bodies) };
}

/** The newest hot check of a row (the newest row of its series). */
export function newestOf(row: { at: number[]; body: Buffer }): HotRow {
  let k = 0;
  for (let i = 1; i < row.at.length; i++) if (row.at[i]! > row.at[k]!) k = i;
  return { scheduledAt: row.at[k]!, body: CheckColumns.splitBodies(row.body, row.at.length)[k]! };
}

/** SQL for the newest check's time in the hot rows of series `series` (NULL when none). */
export const newestHotAt = (series: string) =>
  `(SELECT max(t) FROM (SELECT at FROM monitor_hot_checks WHERE series = ${series} ORDER BY start DESC LIMIT 1) h,
    unnest(h.at) t)`;

/** A row as a writer plans it: what it held, and what this batch adds to it. */
interface Planned {
  readonly start: number;
  /** Stored before this batch. */
  readonly stored: boolean;
  /** How many checks it holds, stored and added. */
  n: number;
  /** Its checks' times, stored and added (only the added ones for a stand-in). */
  readonly times: number[];
  /** Its stored checks' bodies back to back, when it is not full (for a fold). */
  readonly body: Buffer | null;
  /** The checks this batch adds to it. */
  readonly added: HotRow[];
  readonly last: number;
  /**
   * Set on a stand-in for the stored rows in [start, until) that are not full, before the row a
   * batch's oldest check falls in: read only if a fold takes them.
   */
  readonly until?: number;
}

const hourOf = (at: number) => Math.floor(at / HOUR);

/** A series' rows in start order, stand-ins replaced by the rows they stand for. */
type Plan = Map<number, Planned[]>;

/**
 * Stores the hot checks whose (series, scheduledAt) is not a hot check yet, and returns the indexes
 * of those stored. The series must be locked (sinks lock them in `seriesFor`).
 *
 * A new check gets a row of its own, unless it falls inside a row's span (a late check), which it is
 * then added to. Rows are not grown one check at a time: each version of a growing row would be a
 * whole new tuple (16 of them to fill one). Instead, when a run of adjacent rows of one hour that are
 * not full reaches HOT_ROW_CHECKS checks, or its hour is over (the series has a row of a later one),
 * the run is folded into full rows: a sink keeping up writes a check a row and folds 16 rows into one
 * every 16 checks, and one draining a backlog writes full rows straight away.
 */
export async function insertHotChecks(
  db: Queryable,
  checks: readonly (HotRow & { series: number })[],
): Promise<Set<number>> {
  const fresh = new Set<number>();
  if (checks.length === 0) return fresh;
  const bySeries = new Map<number, number[]>();
  checks.forEach((c, i) => {
    const mine = bySeries.get(c.series);
    if (mine) mine.push(i);
    else bySeries.set(c.series, [i]);
  });
  const ids = [...bySeries.keys()];
  const oldest = ids.map((id) => Math.min(...bySeries.get(id)!.map((i) => checks[i]!.scheduledAt)));
  // The rows that may hold one of these checks: from the one whose range holds each series' oldest
  // on (one row, for a sink keeping up). Beside each, the rows of that hour before it and after its
  // last full one, which a fold may take in, as their first start and how many checks they hold.
  const { rows } = await db.query<{
    series: number;
    start: number;
    at: number[];
    body: Buffer | null;
    first: number | null;
    n: number | null;
  }>(
    `WITH k AS MATERIALIZED (
       SELECT u.series, ${rowHolding('u.series', 'u.oldest')} AS holding
       FROM unnest($1::int4[], $2::float8[]) AS u (series, oldest)
     ), l AS MATERIALIZED (
       SELECT k.series, k.holding, r.first, r.n FROM k
       LEFT JOIN LATERAL (
         SELECT min(x.start) AS first, sum(x.n)::int4 AS n FROM (
           SELECT p.start, p.n, count(*) FILTER (WHERE p.n >= ${HOT_ROW_CHECKS}) OVER (ORDER BY p.start DESC) AS full
           FROM (
             SELECT p.start, cardinality(p.at) AS n FROM monitor_hot_checks p
             WHERE p.series = k.series AND p.start < k.holding AND p.start >= floor(k.holding / ${HOUR}) * ${HOUR}
             ORDER BY p.start DESC LIMIT ${HOT_ROW_CHECKS}
           ) p
         ) x WHERE x.full = 0
       ) r ON true
     )
     SELECT h.series, h.start, h.at, CASE WHEN cardinality(h.at) < ${HOT_ROW_CHECKS} THEN h.body END AS body,
       l.first, l.n
     FROM l JOIN monitor_hot_checks h ON h.series = l.series AND h.start >= l.holding
     ORDER BY h.series, h.start`,
    [ids, oldest.map(finite)],
  );
  const plan: Plan = new Map(ids.map((id) => [id, []]));
  for (const r of rows) {
    const mine = plan.get(r.series)!;
    if (mine.length === 0 && r.first !== null) {
      const n = r.n ?? 0;
      mine.push({
        start: r.first,
        stored: true,
        n,
        times: [],
        body: null,
        added: [],
        last: r.start,
        until: r.start,
      });
    }
    mine.push(storedRow(r));
  }
  for (const [series, indexes] of bySeries) {
    const mine = plan.get(series)!;
    indexes.sort((a, b) => checks[a]!.scheduledAt - checks[b]!.scheduledAt);
    for (const i of indexes) {
      const check = checks[i]!;
      const t = check.scheduledAt;
      let k = mine.length - 1;
      while (k >= 0 && mine[k]!.start > t) k--;
      const row = mine[k];
      if (row?.times.includes(t)) continue;
      fresh.add(i);
      if (row && t < row.last) {
        row.times.push(t);
        row.added.push(check);
        row.n++;
      } else {
        const single = { start: t, stored: false, n: 1, times: [t], body: null, added: [check], last: t };
        mine.splice(k + 1, 0, single);
      }
    }
  }
  // A fold that takes in stand-ins reads the rows they stand for, and is planned again.
  const unread = [...plan].flatMap(([series, mine]) =>
    [...fold(mine, false).folded].filter((r) => r.until !== undefined).map((r) => ({ series, ...r })),
  );
  if (unread.length > 0) {
    const { rows: runs } = await db.query<{ series: number; start: number; at: number[]; body: Buffer }>(
      `SELECT h.series, h.start, h.at, h.body
       FROM unnest($1::int4[], $2::float8[], $3::float8[]) AS u (series, first, until)
       JOIN monitor_hot_checks h ON h.series = u.series AND h.start >= u.first AND h.start < u.until
       ORDER BY h.series, h.start`,
      [unread.map((r) => r.series), unread.map((r) => r.start), unread.map((r) => r.until!)],
    );
    const read = new Map<number, Planned[]>();
    for (const r of runs) {
      const mine = read.get(r.series);
      if (mine) mine.push(storedRow(r));
      else read.set(r.series, [storedRow(r)]);
    }
    for (const { series } of unread) plan.get(series)!.splice(0, 1, ...(read.get(series) ?? []));
  }
  const removed: { series: number; start: number }[] = [];
  const appended: { series: number; start: number; added: HotRow[] }[] = [];
  const made: { series: number; checks: HotRow[] }[] = [];
  for (const [series, mine] of plan) {
    const { folded, into } = fold(mine);
    for (const row of mine) {
      if (folded.has(row)) {
        if (row.stored) removed.push({ series, start: row.start });
      } else if (!row.stored) {
        made.push({ series, checks: row.added });
      } else if (row.added.length > 0) {
        appended.push({ series, start: row.start, added: row.added });
      }
    }
    for (const rowChecks of into) made.push({ series, checks: rowChecks });
  }
  if (removed.length > 0) await deleteRows(db, removed);
  if (appended.length > 0) {
    await db.query(
      `UPDATE monitor_hot_checks h SET at = h.at || u.at::float8[], body = h.body || u.body
       FROM unnest($1::int4[], $2::float8[], $3::text[], $4::bytea[]) AS u (series, start, at, body)
       WHERE h.series = u.series AND h.start = u.start`,
      [
        appended.map((r) => r.series),
        appended.map((r) => r.start),
        appended.map((r) => arrayLiteral(r.added.map((c) => c.scheduledAt))),
        appended.map((r) => Buffer.concat(r.added.map((c) => c.body))),
      ],
    );
  }
  if (made.length > 0) await insertRows(db, made);
  return fresh;
}

/** A stored row as a writer plans it. */
const storedRow = (r: { start: number; at: number[]; body: Buffer | null }): Planned => ({
  start: r.start,
  stored: true,
  n: r.at.length,
  times: r.at,
  body: r.body,
  added: [],
  last: Math.max(...r.at),
});

/**
 * The runs of adjacent rows of one hour that are not full, among a series' rows in start order, that
 * are due to be folded (HOT_ROW_CHECKS checks among them, or an hour that is over): those rows, and
 * the full rows (the last one perhaps not) their checks make in time order. In a run not due, new
 * rows side by side make one row, without reading the stored ones. With `build` false, only which
 * rows go (none of their checks read).
 */
function fold(rows: readonly Planned[], build = true): { folded: Set<Planned>; into: HotRow[][] } {
  const folded = new Set<Planned>();
  const into: HotRow[][] = [];
  if (rows.length === 0) return { folded, into };
  const newestHour = hourOf(rows.at(-1)!.start);
  let run: Planned[] = [];
  const close = () => {
    const n = run.reduce((sum, r) => sum + r.n, 0);
    if (run.length >= 2 && (n >= HOT_ROW_CHECKS || hourOf(run[0]!.start) < newestHour)) {
      const all: HotRow[] = [];
      for (const r of run) {
        folded.add(r);
        if (!build) continue;
        // A stand-in's checks are read before the fold is planned again for good.
        if (r.stored && r.until === undefined) {
          const stored = r.times.length - r.added.length;
          for (const c of checksOf({ start: r.start, at: r.times.slice(0, stored), body: r.body! }))
            all.push(c);
        }
        for (const c of r.added) all.push(c);
      }
      all.sort((a, b) => a.scheduledAt - b.scheduledAt);
      for (let i = 0; i < all.length; i += HOT_ROW_CHECKS) into.push(all.slice(i, i + HOT_ROW_CHECKS));
    } else {
      // Not due: only this batch's new rows side by side become one (a backlog's few checks a series).
      for (let i = 0; i < run.length;) {
        let j = i;
        while (j < run.length && !run[j]!.stored) j++;
        if (j - i >= 2) {
          const group = run.slice(i, j);
          for (const r of group) folded.add(r);
          into.push(group.flatMap((r) => r.added));
        }
        i = Math.max(j, i + 1);
      }
    }
    run = [];
  };
  for (const row of rows) {
    const full = row.n >= HOT_ROW_CHECKS;
    if (full || (run.length > 0 && hourOf(run[0]!.start) !== hourOf(row.start))) close();
    if (!full) run.push(row);
  }
  close();
  return { folded, into };
}

/** Deletes these rows. */
async function deleteRows(db: Queryable, rows: readonly { series: number; start: number }[]): Promise<void> {
  await db.query(
    `DELETE FROM monitor_hot_checks h USING unnest($1::int4[], $2::float8[]) AS u (series, start)
     WHERE h.series = u.series AND h.start = u.start`,
    [rows.map((r) => r.series), rows.map((r) => r.start)],
  );
}

/** Inserts rows of these checks, each keyed by its first (oldest) one. */
async function insertRows(
  db: Queryable,
  rows: readonly { series: number; checks: readonly HotRow[] }[],
): Promise<void> {
  await db.query(
    `INSERT INTO monitor_hot_checks (start, series, at, body)
     SELECT u.start, u.series, u.at::float8[], u.body
     FROM unnest($1::int4[], $2::float8[], $3::text[], $4::bytea[]) AS u (series, start, at, body)`,
    [
      rows.map((r) => r.series),
      rows.map((r) => Math.min(...r.checks.map((c) => c.scheduledAt))),
      rows.map((r) => arrayLiteral(r.checks.map((c) => c.scheduledAt))),
      rows.map((r) => Buffer.concat(r.checks.map((c) => c.body))),
    ],
  );
}

/**
 * Takes the checks that `gone` picks out of these rows (locked for update): a row left empty is
 * deleted, one left with some is written again keyed by its first one. Returns how many went.
 */
async function takeOut(
  db: Queryable,
  rows: readonly (HotRunDbRow & { series: number })[],
  gone: (at: number) => boolean,
): Promise<number> {
  let taken = 0;
  const changed: (HotRunDbRow & { series: number })[] = [];
  const kept: { series: number; checks: HotRow[] }[] = [];
  for (const row of rows) {
    const n = row.at.filter(gone).length;
    if (n === 0) continue;
    taken += n;
    changed.push(row);
    if (n < row.at.length)
      kept.push({ series: row.series, checks: checksOf(row).filter((c) => !gone(c.scheduledAt)) });
  }
  if (changed.length > 0) await deleteRows(db, changed);
  if (kept.length > 0) await insertRows(db, kept);
  return taken;
}

/** Deletes the hot checks of a series in [from, to) (the series locked). */
export async function deleteHotIn(db: Queryable, series: number, from: number, to: number): Promise<void> {
  // Rows wholly inside go by their key's range (all of them, for whole hours); then a row that `from`
  // falls inside, or that runs past `to`, is written again without the checks in range.
  await db.query(
    `DELETE FROM monitor_hot_checks
     WHERE series = $1 AND start >= $2 AND start < $3 AND (SELECT max(t) FROM unnest(at) t) < $3`,
    [series, finite(from), finite(to)],
  );
  const { rows } = await db.query<HotRunDbRow>(
    `SELECT start, at, body FROM monitor_hot_checks
     WHERE series = $1 AND start < $3 AND start >= ${rowHolding('$1', '$2')}
       AND (SELECT max(t) FROM unnest(at) t) >= $2`,
    [series, finite(from), finite(to)],
  );
  await takeOut(
    db,
    rows.map((r) => ({ ...r, series })),
    (t) => t >= from && t < to,
  );
}

/** Deletes every hot check before `before`; returns how many. */
export async function deleteHotBefore(db: Queryable, before: number): Promise<number> {
  const at = finite(before);
  // A row `before` falls inside is written again without the checks before it, its series locked
  // first as a sink locks it (sinks change a row only under that lock).
  const across = `SELECT series, start, at, body FROM monitor_hot_checks
    WHERE start < $1 AND (SELECT max(t) FROM unnest(at) t) >= $1`;
  const { rows: straddling } = await db.query<{ series: number }>(
    `SELECT DISTINCT series FROM (${across}) r`,
    [at],
  );
  let taken = 0;
  if (straddling.length > 0) {
    const series = straddling.map((r) => r.series);
    await db.query('SELECT id FROM monitor_series WHERE id = ANY($1::int4[]) ORDER BY id FOR UPDATE', [
      series,
    ]);
    const { rows } = await db.query<HotRunDbRow & { series: number }>(
      `SELECT * FROM (${across}) r WHERE series = ANY($2::int4[]) ORDER BY series, start`,
      [at, series],
    );
    taken = await takeOut(db, rows, (t) => t < before);
  }
  // Rows wholly before it go as they are.
  const { rows } = await db.query<{ n: string | null }>(
    `WITH gone AS (
       DELETE FROM monitor_hot_checks WHERE start < $1 AND (SELECT max(t) FROM unnest(at) t) < $1
       RETURNING cardinality(at) AS n)
     SELECT sum(n) AS n FROM gone`,
    [at],
  );
  return taken + Number(rows[0]?.n ?? 0);
}
