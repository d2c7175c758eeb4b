import type { LogRecord } from '../log/record.ts';
import type { Projection } from '../sink/projection.ts';
import { deriveFromChecks } from './derive.ts';
import type { Check, CheckRow } from './model.ts';
import { rebuildFromStore } from './rebuild.ts';
import type { MonitorRepositories, MonitorWriters } from './store/repositories.ts';

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
 * move incidents. The store keeps every check at full fidelity for its retention, so replay rebuilds
 * rollups, states and incidents from the store rather than from the log (which keeps them a day).
 */
export const checkProjection: Projection<MonitorWriters, MonitorRepositories> = {
  stream: 'checks',
  group: 'sink-checks',
  apply: async (tx, records: readonly LogRecord[]) => {
    const rows: CheckRow[] = [];
    for (const r of records) if (isCheck(r.body)) rows.push({ ...r.body, tenant: r.tenant });
    const fresh = await tx.checks.insert(rows);
    if (fresh.length > 0) await deriveFromChecks(tx, fresh);
    return fresh.length;
  },
  rebuild: rebuildFromStore,
};
