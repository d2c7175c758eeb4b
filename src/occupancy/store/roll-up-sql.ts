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

/**
 * SQL (the same on SQLite and PostgreSQL) that sets the `area` of every minute, hour and day row
 * from what is under it: a minute from its deltas (Σ delta × (end − ts)), an hour from its minutes and
 * a day from its hours (each child's area plus its net change held until the parent's end).
 */
export const areaBackfill = `
      UPDATE occupancy_minutes SET area = COALESCE((
        SELECT SUM(d.delta * (occupancy_minutes.minute + 60000 - d.ts)) FROM occupancy_deltas d
        WHERE d.tenant = occupancy_minutes.tenant AND d.space = occupancy_minutes.space
          AND d.ts >= occupancy_minutes.minute AND d.ts < occupancy_minutes.minute + 60000), 0);
      UPDATE occupancy_hours SET area = COALESCE((
        SELECT SUM(m.area + m.net * (occupancy_hours.hour + 3600000 - m.minute - 60000)) FROM occupancy_minutes m
        WHERE m.tenant = occupancy_hours.tenant AND m.space = occupancy_hours.space
          AND m.minute >= occupancy_hours.hour AND m.minute < occupancy_hours.hour + 3600000), 0);
      UPDATE occupancy_days SET area = COALESCE((
        SELECT SUM(h.area + h.net * (occupancy_days.day + 86400000 - h.hour - 3600000)) FROM occupancy_hours h
        WHERE h.tenant = occupancy_days.tenant AND h.space = occupancy_days.space
          AND h.hour >= occupancy_days.day AND h.hour < occupancy_days.day + 86400000), 0);`;
