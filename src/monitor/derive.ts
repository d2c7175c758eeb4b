import { advanceIncidents } from './incidents.ts';
import { stateOf, type CheckRow, type TargetState, type Thresholds } from './model.ts';
import { addToRollups, rollupKeys } from './rollup.ts';
import type { MonitorWriters } from './store/repositories.ts';

/**
 * What new checks change besides their rows: their rollups and their targets' incident states;
 * returns the states it moved. Checks made during maintenance join no rollup and move no state. The
 * minute rollups of `minutes` only (the others' are derived from their block when read). `limits`
 * are the targets' thresholds by tenant and id, when the caller has read them already.
 */
export async function deriveFromChecks(
  tx: MonitorWriters,
  fresh: readonly CheckRow[],
  minutes: readonly CheckRow[] = fresh,
  limits?: ReadonlyMap<string, ReadonlyMap<string, Thresholds>>,
): Promise<TargetState[]> {
  const counted = fresh.filter((c) => stateOf(c) !== 'maintenance');
  if (counted.length > 0) {
    const existing = await tx.checks.getRollups(counted.flatMap(rollupKeys));
    const rollups =
      minutes === fresh
        ? addToRollups(existing, counted)
        : [
            ...addToRollups(existing, counted).filter((r) => r.size !== 'minute'),
            ...addToRollups(
              existing.filter((r) => r.size === 'minute'),
              minutes.filter((c) => stateOf(c) !== 'maintenance'),
            ).filter((r) => r.size === 'minute'),
          ];
    await tx.checks.putRollups(rollups);
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
