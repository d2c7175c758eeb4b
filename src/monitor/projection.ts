import type { LogRecord } from '../log/record.ts';
import type { Projection } from '../sink/projection.ts';
import type { Check, CheckRow, Thresholds } from './model.ts';
import type { MonitorWriters } from './store/repositories.ts';
import { advanceIncidents } from './incidents.ts';
import { addToRollups, rollupKeys } from './rollup.ts';

/** True when a record body has the fields a check needs; other agents may speak older versions. */
export function isCheck(body: unknown): body is Check {
  const c = body as Partial<Check> | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof c.target === 'string' &&
    typeof c.region === 'string' &&
    typeof c.scheduledAt === 'number' &&
    typeof c.slot === 'number' &&
    typeof c.ok === 'boolean' &&
    typeof c.durationMs === 'number' &&
    typeof c.phases === 'object'
  );
}

/**
 * Checks are stored once per (tenant, target, region, slot start), whichever agent probed them and
 * however often the record is redelivered; only checks that were really new update the rollups and
 * move incidents.
 */
export const checkProjection: Projection<MonitorWriters> = {
  stream: 'checks',
  group: 'sink-checks',
  apply: async (tx, records: readonly LogRecord[]) => {
    const rows: CheckRow[] = [];
    for (const r of records) if (isCheck(r.body)) rows.push({ ...r.body, tenant: r.tenant });
    const fresh = await tx.checks.insert(rows);
    if (fresh.length === 0) return 0;
    const existing = await tx.checks.getRollups(fresh.flatMap(rollupKeys));
    await tx.checks.putRollups(addToRollups(existing, fresh));

    const limits = new Map<string, Map<string, Thresholds>>();
    for (const tenant of new Set(fresh.map((c) => c.tenant))) {
      const ids = [...new Set(fresh.filter((c) => c.tenant === tenant).map((c) => c.target))];
      limits.set(tenant, await tx.checks.thresholds(tenant, ids));
    }
    const previous = await tx.checks.getStates(fresh);
    const changes = advanceIncidents(previous, fresh, (c) => limits.get(c.tenant)?.get(c.target));
    for (const incident of changes.opened) await tx.checks.openIncident(incident);
    for (const { key, endedAt } of changes.closed) await tx.checks.closeIncident(key, endedAt);
    await tx.checks.putStates(changes.states);
    return fresh.length;
  },
};
