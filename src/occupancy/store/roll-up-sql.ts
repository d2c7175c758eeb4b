/**
 * SQL (the same on SQLite and PostgreSQL) that fills `into` with one row per `size`-long period of
 * the rows of `from`, composed in time order: net Σ net, and lowest (highest) running sum the least
 * (greatest) of each row's own plus the net of the rows before it in the period (the same as
 * `segment.ts#concat`).
 */
export function rollUp(from: string, time: string, into: string, period: string, size: number): string {
  // ((t % size) + size) % size is the floor remainder (% truncates), so times before 1970 work too.
  const start = `${time} - ((${time} % ${size}) + ${size}) % ${size}`;
  return `
      INSERT INTO ${into} (tenant, space, ${period}, net, min_prefix, max_prefix, entries, exits, late)
      SELECT tenant, space, period, sum(net), min(preceding + min_prefix), max(preceding + max_prefix),
             sum(entries), sum(exits), sum(late)
      FROM (
        SELECT tenant, space, ${start} AS period, net, min_prefix, max_prefix, entries, exits, late,
               sum(net) OVER (PARTITION BY tenant, space, ${start} ORDER BY ${time}) - net AS preceding
        FROM ${from}
      ) AS ordered
      GROUP BY tenant, space, period;`;
}
