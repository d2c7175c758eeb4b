import { createHash } from 'node:crypto';

/** A visit ends after 30 minutes without an event (the rule Plausible and GA use). */
export const SESSION_TIMEOUT_MS = 30 * 60_000;

/**
 * True when an event at `ts` belongs to a session spanning [startedAt, lastAt]: it is no more than 30
 * minutes after the last event, nor more than 30 minutes before the first (a late, out-of-order event).
 */
export function continuesSession(session: { startedAt: number; lastAt: number }, ts: number): boolean {
  return ts <= session.lastAt + SESSION_TIMEOUT_MS && ts >= session.startedAt - SESSION_TIMEOUT_MS;
}

/** Session ids come from the visitor and start time, so reprocessing the same events yields the same ids. */
export function sessionId(visitor: string, startedAt: number): string {
  return createHash('sha256').update(`${visitor}\0${startedAt}`).digest('base64url').slice(0, 22);
}

/** A visit with at most one page view or event is a bounce. */
export const isBounce = (s: { pageviews: number; events: number }) => s.pageviews + s.events <= 1;
