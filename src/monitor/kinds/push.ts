import type { ProbeResult } from '../model.ts';
import { kindResult } from '../probe.ts';
import type { Push } from '../store/repositories.ts';
import { isoTime } from '../../wire/time.ts';

/** What a push check needs of its target. */
export interface PushPlan {
  readonly intervalMs: number;
  readonly graceMs: number;
  readonly degradedAboveMs: number | undefined;
}

/**
 * Judges a heartbeat at the slot due at `scheduledAt`: up when a push arrived within the interval plus
 * the grace before it and reported success; `missed` when none did; `reported` when the newest said
 * it failed. The duration is what the push reported (`ping`), else 0.
 */
export function judgePush(plan: PushPlan, scheduledAt: number, last: Push | undefined): ProbeResult {
  const since = scheduledAt - plan.intervalMs - plan.graceMs;
  let error: ProbeResult['error'] = null;
  if (!last || last.at < since) {
    error = { class: 'missed', detail: last ? `no push since ${isoTime(last.at)}` : 'no push received yet' };
  } else if (last.status === 'down') {
    error = { class: 'reported', detail: last.message || 'the push reported a failure' };
  }
  return kindResult({
    startedAt: Date.now(),
    durationMs: error === null ? (last?.durationMs ?? 0) : 0,
    error,
    degradedAboveMs: plan.degradedAboveMs,
    observed: { push: last ? { at: last.at, status: last.status, message: last.message } : null },
  });
}
