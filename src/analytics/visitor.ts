import { createHash, createHmac } from 'node:crypto';
import type { SaltRotation } from './model.ts';

/**
 * The salt period an instant falls in for a site's rotation: its UTC date (`2026-11-23`) for daily
 * salts, its UTC month (`2026-11`) for monthly ones.
 */
export function saltPeriod(rotation: SaltRotation, ts: number): string {
  return new Date(ts).toISOString().slice(0, rotation === 'monthly' ? 7 : 10);
}

/**
 * The salt of one period: HMAC(secret, period). Derived rather than stored, so every API process and a
 * replay compute the same salt, yet nobody without the secret can link ids, and ids change with the
 * period. Daily periods keep the text the daily salt always had, so ids of daily sites did not change
 * when monthly salts came.
 */
export function visitorSalt(secret: string, period: string): string {
  return createHmac('sha256', secret).update(`visitor-salt:${period}`).digest('base64url');
}

/**
 * The cookieless visitor id: a hash of the period's salt, the site, the client address and the user
 * agent. The address is only ever an input here; it is never stored or logged.
 */
export function visitorId(salt: string, site: string, address: string, userAgent: string): string {
  return createHash('sha256')
    .update(`${salt}\0${site}\0${address}\0${userAgent}`)
    .digest('base64url')
    .slice(0, 22);
}
