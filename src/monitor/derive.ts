import { advanceIncidents } from './incidents.ts';
import type { CheckRow, Thresholds } from './model.ts';
import { addToRollups, rollupKeys } from './rollup.ts';
import type { MonitorWriters } from './store/repositories.ts';

/**
 * What new checks change besides their rows: their rollups and their targets' incident states. The
 * minute rollups of `minutes` only (the others' are derived from their block when read).
 */
export async function deriveFromChecks(
  tx: MonitorWriters,
  fresh: readonly CheckRow[],
  minutes: readonly CheckRow[] = fresh,
): Promise<void> {
  const existing = await tx.checks.getRollups(fresh.flatMap(rollupKeys));
  const rollups =
    minutes === fresh
      ? addToRollups(existing, fresh)
      : [
          ...addToRollups(existing, fresh).filter((r) => r.size !== 'minute'),
          ...addToRollups(
            existing.filter((r) => r.size === 'minute'),
            minutes,
          ).filter((r) => r.size === 'minute'),
        ];
  await tx.checks.putRollups(rollups);

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
}
