import { advanceIncidents } from './incidents.ts';
import { stateOf, type CheckRow, type TargetState, type Thresholds } from './model.ts';
import { addToRollups, rollupKeys, STORED_ROLLUP_SIZES } from './rollup.ts';
import type { MonitorWriters } from './store/repositories.ts';

/**
 * What new checks change besides their rows: their hour and day rollups and their targets' incident
 * states; returns the states it moved. Checks made during maintenance join no rollup and move no
 * state. Minute rollups are not stored: a reader derives them from the checks. `limits` are the
 * targets' thresholds by tenant and id, when the caller has read them already.
 */
export async function deriveFromChecks(
  tx: MonitorWriters,
  fresh: readonly CheckRow[],
  limits?: ReadonlyMap<string, ReadonlyMap<string, Thresholds>>,
): Promise<TargetState[]> {
  const counted = fresh.filter((c) => stateOf(c) !== 'maintenance');
  if (counted.length > 0) {
    const existing = await tx.checks.getRollups(counted.flatMap((c) => rollupKeys(c, STORED_ROLLUP_SIZES)));
    await tx.checks.putRollups(addToRollups(existing, counted, STORED_ROLLUP_SIZES));
  }

  const known = new Map<string, ReadonlyMap<string, Thresholds>>(limits);
  for (const tenant of new Set(fresh.map((c) => c.tenant))) {
    if (known.has(tenant)) continue;
    const ids = [...new Set(fresh.filter((c) => c.tenant === tenant).map((c) => c.target))];
    known.set(tenant, await tx.checks.targetFacts(tenant, ids));
  }
  const previous = await tx.checks.getStates(fresh);
  const changes = advanceIncidents(previous, fresh, (c) => known.get(c.tenant)?.get(c.target));
  for (const incident of changes.opened) await tx.checks.openIncident(incident);
  for (const { key, endedAt } of changes.closed) await tx.checks.closeIncident(key, endedAt);
  await tx.checks.putStates(changes.states);
  return changes.states;
}
