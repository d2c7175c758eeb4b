import type { LogRecord } from '../log/record.ts';
import type { NotifyWriters } from '../notify/store/repositories.ts';
import type { Projection, ProjectionContext } from '../sink/projection.ts';
import { alertStateId, certificateCandidates, evaluateAlerts, warningsToTell } from './alerts.ts';
import { deriveFromChecks } from './derive.ts';
import { inMaintenance } from './maintenance.ts';
import { stateId, type Check, type CheckRow, type TargetFacts, type TargetState } from './model.ts';
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

/** The writers the check projection uses: the monitor's, and the outbox it queues notifications in. */
export type CheckProjectionWriters = MonitorWriters & NotifyWriters;

/** A tenant's rows, grouped. */
function byTenant(rows: readonly CheckRow[]): Map<string, CheckRow[]> {
  const out = new Map<string, CheckRow[]>();
  for (const r of rows) out.set(r.tenant, [...(out.get(r.tenant) ?? []), r]);
  return out;
}

/**
 * Alerting for one tenant's new checks: certificate thresholds crossed, then each rule's decision;
 * the notifications go to the outbox in this same transaction, so a change is told if and only if it
 * is stored, whichever process projects it and however often the records are delivered.
 */
async function alert(
  tx: CheckProjectionWriters,
  tenant: string,
  fresh: readonly CheckRow[],
  facts: ReadonlyMap<string, TargetFacts>,
  context: ProjectionContext,
): Promise<void> {
  const rules = await tx.alerts.alertRules(tenant);
  if (rules.length === 0) return;
  const targets = [...new Set(fresh.map((c) => c.target))];
  const latest = new Map<string, CheckRow>();
  for (const c of fresh)
    if ((latest.get(c.target)?.scheduledAt ?? -Infinity) < c.scheduledAt) latest.set(c.target, c);
  const regions = new Map<string, TargetState[]>();
  for (const s of await tx.alerts.targetStates(tenant, targets))
    regions.set(s.target, [...(regions.get(s.target) ?? []), s]);
  const stored = await tx.alerts.recordCertificateWarnings(certificateCandidates(fresh, facts));
  const base = context.config.publicUrl?.replace(/\/+$/, '');
  const { states, envelopes } = evaluateAlerts({
    tenant,
    rules,
    facts,
    regions,
    latest,
    states: new Map((await tx.alerts.alertStates(tenant, targets)).map((s) => [alertStateId(s), s])),
    certificates: warningsToTell(stored),
    link: (target) => (base ? `${base}/uptime?target=${encodeURIComponent(target)}` : undefined),
  });
  await tx.alerts.putAlertStates(states);
  await tx.notifications.enqueue(envelopes, Date.now());
}

/**
 * Checks are stored once per (tenant, target, region, slot start), whichever agent probed them and
 * however often the record is redelivered; only checks that were really new update the rollups, move
 * incidents and alert. A check due inside one of its target's maintenance windows is stored as
 * `maintenance`: it counts toward no rollup, moves no incident and alerts no one. The store keeps
 * every check at full fidelity for its retention, so replay rebuilds rollups, states and incidents
 * from the store rather than from the log (which keeps them a day); a rebuild alerts no one, since
 * what rules told is kept apart and was told when the checks first arrived.
 */
export const checkProjection: Projection<CheckProjectionWriters, MonitorRepositories> = {
  stream: 'checks',
  group: 'sink-checks',
  apply: async (tx, records: readonly LogRecord[], context) => {
    const given: CheckRow[] = [];
    for (const r of records) if (isCheck(r.body)) given.push({ ...r.body, tenant: r.tenant });
    if (given.length === 0) return 0;
    const tenants = byTenant(given);
    const facts = new Map<string, Map<string, TargetFacts>>();
    const rows: CheckRow[] = [];
    for (const [tenant, checks] of tenants) {
      const known = await tx.checks.targetFacts(tenant, [...new Set(checks.map((c) => c.target))]);
      facts.set(tenant, known);
      const windows = await tx.alerts.maintenanceWindows(tenant);
      for (const c of checks) {
        const tags = known.get(c.target)?.tags ?? [];
        const paused = windows.length > 0 && inMaintenance(windows, c.target, tags, c.scheduledAt);
        rows.push(paused ? { ...c, state: 'maintenance' } : c);
      }
    }
    const fresh = await tx.checks.insert(rows);
    if (fresh.length === 0) return 0;
    const moved = new Set((await deriveFromChecks(tx, fresh, facts)).map(stateId));
    for (const [tenant, checks] of byTenant(fresh)) {
      const affecting = checks.filter((c) => moved.has(stateId(c)) || c.tlsExpiresAt !== null);
      if (affecting.length > 0) await alert(tx, tenant, affecting, facts.get(tenant)!, context);
    }
    return fresh.length;
  },
  rebuild: rebuildFromStore,
};
