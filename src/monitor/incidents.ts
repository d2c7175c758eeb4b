import {
  stateId,
  stateOf,
  type CheckRow,
  type Incident,
  type IncidentKey,
  type TargetState,
  type Thresholds,
} from './model.ts';

/** What one batch of new checks did to incidents. */
export interface IncidentChanges {
  readonly states: TargetState[];
  readonly opened: Incident[];
  readonly closed: { key: IncidentKey; endedAt: number }[];
}

/**
 * Advances each (target, region)'s state through new checks in slot order: `downAfter` failures in a
 * row open an incident dated from the first of them; `upAfter` successes in a row close it. Checks
 * older than the last one seen (a late spool, a slow twin agent) are stored but do not move the state,
 * and neither do checks made during maintenance. Failed and degraded checks in a row are counted
 * too, whatever the incident, for alert rules with thresholds of their own.
 */
export function advanceIncidents(
  previous: readonly TargetState[],
  checks: readonly CheckRow[],
  thresholds: (check: CheckRow) => Thresholds | undefined,
): IncidentChanges {
  const states = new Map(previous.map((s) => [stateId(s), s]));
  const opened: Incident[] = [];
  const closed: IncidentChanges['closed'] = [];
  const touched = new Set<string>();
  for (const check of [...checks].sort((a, b) => a.scheduledAt - b.scheduledAt)) {
    const limits = thresholds(check);
    const state = stateOf(check);
    if (!limits || state === 'maintenance') continue;
    const key = stateId(check);
    const s: TargetState = states.get(key) ?? {
      tenant: check.tenant,
      target: check.target,
      region: check.region,
      down: false,
      streak: 0,
      fails: 0,
      slow: 0,
      streakStart: check.scheduledAt,
      lastScheduledAt: -1,
      incidentStart: null,
    };
    if (check.scheduledAt <= s.lastScheduledAt) continue;
    // A check that breaks the streak (a failure while up, a success while down) starts it; others reset it.
    const continues = s.down ? check.ok : !check.ok;
    const streak = continues ? s.streak + 1 : 0;
    const streakStart = continues ? (s.streak === 0 ? check.scheduledAt : s.streakStart) : check.scheduledAt;
    let next: TargetState = {
      ...s,
      streak,
      streakStart,
      fails: check.ok ? 0 : s.fails + 1,
      slow: state === 'degraded' ? s.slow + 1 : 0,
      lastScheduledAt: check.scheduledAt,
    };
    if (!s.down && streak >= limits.downAfter) {
      opened.push({
        tenant: check.tenant,
        target: check.target,
        region: check.region,
        startedAt: streakStart,
        endedAt: null,
        cause: check.error?.class ?? 'other',
        detail: check.error?.detail ?? '',
      });
      next = { ...next, down: true, streak: 0, incidentStart: streakStart };
    } else if (s.down && streak >= limits.upAfter) {
      closed.push({
        key: {
          tenant: check.tenant,
          target: check.target,
          region: check.region,
          startedAt: s.incidentStart!,
        },
        endedAt: streakStart,
      });
      next = { ...next, down: false, streak: 0, incidentStart: null };
    }
    states.set(key, next);
    touched.add(key);
  }
  return { states: [...touched].map((k) => states.get(k)!), opened, closed };
}
