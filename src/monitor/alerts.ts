import type { Envelope, Notification, Severity, Action } from '../notify/notification.ts';
import { ruleCovers, type AlertRule } from './alert-rules.ts';
import {
  stateOf,
  type AlertState,
  type CertificateWarning,
  type CheckRow,
  type TargetFacts,
  type TargetState,
} from './model.ts';

/** What one batch of checks gives alerting to judge, for one tenant. */
export interface AlertInput {
  readonly tenant: string;
  readonly rules: readonly AlertRule[];
  readonly facts: ReadonlyMap<string, TargetFacts>;
  /** Every region's state of each target the batch moved, after the batch. */
  readonly regions: ReadonlyMap<string, readonly TargetState[]>;
  /** The newest new check of each target in the batch. */
  readonly latest: ReadonlyMap<string, CheckRow>;
  /** Alert states stored for these targets, by `alertStateId`. */
  readonly states: ReadonlyMap<string, AlertState>;
  /** Certificate thresholds crossed for the first time in this batch. */
  readonly certificates: readonly CertificateWarning[];
  /** The dashboard page of a target, when Beacon knows its public URL. */
  readonly link: (target: string) => string | undefined;
}

/** An alert state's key. */
export const alertStateId = (k: Pick<AlertState, 'rule' | 'target'>) => `${k.rule}\u0000${k.target}`;

const MINUTE = 60_000;

/** `3 h 5 min`, `12 min`, `40 s`. */
export function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h${m % 60 ? ` ${m % 60} min` : ''}`;
  return `${Math.floor(h / 24)} d${h % 24 ? ` ${h % 24} h` : ''}`;
}

/**
 * Decides what each alert rule tells of the targets a batch of checks moved, and where each rule now
 * stands. Per (rule, target), whatever the number of regions or probers:
 *
 * - down, once some region has failed `downAfter` checks in a row (the rule's, else the target's);
 * - up again (if `notifyOn.recovery`), once every region is up with no failure pending;
 * - reminded every `remindEveryMinutes` while down;
 * - degraded and back (if `notifyOn.degraded`), by the same count of slow checks;
 * - certificate warnings (if `notifyOn.certificate`), once per threshold per certificate.
 *
 * Targets whose newest check was made in a maintenance window are left alone. Every envelope has a
 * key naming its target, event and check time, so the same change computed twice is queued once.
 */
export function evaluateAlerts(input: AlertInput): { states: AlertState[]; envelopes: Envelope[] } {
  const envelopes: Envelope[] = [];
  const states: AlertState[] = [];
  const { tenant } = input;
  const queue = (rule: AlertRule, n: Notification) => {
    for (const channel of rule.channels) {
      envelopes.push({
        tenant,
        channel,
        key: `${n.source}:${n.subject}:${n.event}:${n.at}`,
        notification: n,
        groupWindowMs: rule.groupWindowSeconds * 1000,
      });
    }
  };
  for (const [target, check] of input.latest) {
    const facts = input.facts.get(target);
    if (!facts || stateOf(check) === 'maintenance') continue;
    const regions = input.regions.get(target) ?? [];
    const name = facts.name ?? target;
    const at = check.scheduledAt;
    const link = input.link(target);
    const note = (
      event: string,
      severity: Severity,
      action: Action,
      title: string,
      text: string,
      key: string,
      fields: Record<string, string>,
    ): Notification => ({
      source: 'monitor',
      subject: target,
      event,
      severity,
      action,
      dedupKey: `beacon:${tenant}:${target}${key}`,
      title,
      text,
      fields: { target: name, checks: facts.address, ...fields },
      ...(link ? { link } : {}),
      at,
    });
    for (const rule of input.rules) {
      if (!ruleCovers(rule, target, facts.tags)) continue;
      const need = rule.downAfter ?? facts.downAfter;
      const failing = regions.filter((s) => s.fails >= need);
      const allUp = regions.every((s) => !s.down && s.fails === 0);
      const previous = input.states.get(alertStateId({ rule: rule.id, target }));
      let state: AlertState = previous ?? {
        tenant,
        rule: rule.id,
        target,
        down: false,
        degraded: false,
        since: at,
        notifiedAt: 0,
      };
      const cause = check.error ? `${check.error.class}: ${check.error.detail}` : 'failed';
      if (!state.down && failing.length > 0) {
        const where = failing.map((s) => s.region).join(', ');
        const fails = Math.max(...failing.map((s) => s.fails));
        queue(
          rule,
          note(
            'target.down',
            'critical',
            'trigger',
            `${name} is down`,
            `${facts.address} failed ${fails} checks in a row (${where}): ${cause}`,
            '',
            {
              regions: where,
              cause: check.error?.class ?? 'failed',
              detail: check.error?.detail ?? '',
            },
          ),
        );
        state = { ...state, down: true, degraded: false, since: at, notifiedAt: at };
      } else if (state.down && allUp) {
        if (rule.notifyOn.recovery) {
          queue(
            rule,
            note(
              'target.up',
              'ok',
              'resolve',
              `${name} is up again`,
              `${facts.address} is up after ${span(at - state.since)} down`,
              '',
              { down: span(at - state.since) },
            ),
          );
        }
        state = { ...state, down: false, since: at, notifiedAt: at };
      } else if (
        state.down &&
        rule.remindEveryMinutes > 0 &&
        at - state.notifiedAt >= rule.remindEveryMinutes * MINUTE
      ) {
        queue(
          rule,
          note(
            'target.reminder',
            'critical',
            'trigger',
            `${name} is still down`,
            `${facts.address} has been down for ${span(at - state.since)}: ${cause}`,
            '',
            { down: span(at - state.since), cause: check.error?.class ?? 'failed' },
          ),
        );
        state = { ...state, notifiedAt: at };
      }
      if (rule.notifyOn.degraded && !state.down) {
        const slow = regions.some((s) => s.slow >= need);
        const fast = regions.every((s) => s.slow === 0);
        const limit = facts.degradedAboveMs === undefined ? '' : ` (over ${facts.degradedAboveMs} ms)`;
        if (!state.degraded && slow) {
          queue(
            rule,
            note(
              'target.degraded',
              'warning',
              'trigger',
              `${name} is degraded`,
              `${facts.address} answers slowly: ${Math.round(check.durationMs)} ms${limit}`,
              ':degraded',
              { responseMs: String(Math.round(check.durationMs)) },
            ),
          );
          state = { ...state, degraded: true, since: at, notifiedAt: at };
        } else if (state.degraded && fast) {
          queue(
            rule,
            note(
              'target.degraded.resolved',
              'ok',
              'resolve',
              `${name} is no longer degraded`,
              `${facts.address} answers in ${Math.round(check.durationMs)} ms again`,
              ':degraded',
              {},
            ),
          );
          state = { ...state, degraded: false, since: at, notifiedAt: at };
        }
      } else if (state.degraded && state.down) {
        state = { ...state, degraded: false };
      }
      if (previous === undefined ? state.down || state.degraded : state !== previous) states.push(state);
    }
  }
  for (const warning of input.certificates) {
    const facts = input.facts.get(warning.target);
    if (!facts) continue;
    const name = facts.name ?? warning.target;
    const left = Math.max(0, Math.floor((warning.expiresAt - warning.at) / 86_400_000));
    const link = input.link(warning.target);
    const n: Notification = {
      source: 'monitor',
      subject: warning.target,
      event: 'certificate.expiring',
      severity: warning.days <= 7 ? 'critical' : 'warning',
      action: 'notify',
      dedupKey: `beacon:${tenant}:${warning.target}:certificate:${warning.expiresAt}`,
      title: `Certificate of ${name} expires in ${left} day${left === 1 ? '' : 's'}`,
      text: `${facts.address}: its certificate expires ${new Date(warning.expiresAt).toISOString()}.`,
      fields: {
        target: name,
        expires: new Date(warning.expiresAt).toISOString(),
        threshold: `${warning.days} days`,
      },
      ...(link ? { link } : {}),
      at: warning.at,
    };
    for (const rule of input.rules) {
      if (!rule.notifyOn.certificate || !ruleCovers(rule, warning.target, facts.tags)) continue;
      for (const channel of rule.channels) {
        envelopes.push({
          tenant,
          channel,
          key: `monitor:${warning.target}:certificate:${warning.expiresAt}:${warning.days}`,
          notification: n,
          groupWindowMs: rule.groupWindowSeconds * 1000,
        });
      }
    }
  }
  return { states, envelopes };
}

/**
 * The certificate thresholds new checks cross: for each check with a certificate, the thresholds at
 * or above its days left. The store keeps each (target, expiry, threshold) once; only the smallest
 * new one of a certificate is told (first seen at 5 days left: one warning, not three).
 */
export function certificateCandidates(
  checks: readonly CheckRow[],
  facts: ReadonlyMap<string, TargetFacts>,
): CertificateWarning[] {
  const out = new Map<string, CertificateWarning>();
  for (const c of checks) {
    if (c.tlsExpiresAt === null || stateOf(c) === 'maintenance') continue;
    const thresholds = facts.get(c.target)?.tlsExpiryDays ?? [];
    const left = (c.tlsExpiresAt - c.scheduledAt) / 86_400_000;
    for (const days of thresholds) {
      if (left > days) continue;
      const key = `${c.target}\u0000${c.tlsExpiresAt}\u0000${days}`;
      if (!out.has(key))
        out.set(key, {
          tenant: c.tenant,
          target: c.target,
          expiresAt: c.tlsExpiresAt,
          days,
          at: c.scheduledAt,
        });
    }
  }
  return [...out.values()];
}

/** Of warnings newly stored, the smallest threshold per certificate: the one worth telling. */
export function warningsToTell(stored: readonly CertificateWarning[]): CertificateWarning[] {
  const best = new Map<string, CertificateWarning>();
  for (const w of stored) {
    const key = `${w.target}\u0000${w.expiresAt}`;
    const seen = best.get(key);
    if (!seen || w.days < seen.days) best.set(key, w);
  }
  return [...best.values()];
}
