import { createHash, createHmac } from 'node:crypto';

/**
 * The salt for one UTC day: HMAC(secret, date). Derived rather than stored, so every API process and a
 * replay compute the same salt, yet nobody without the secret can link ids, and ids change every day.
 */
export function dailySalt(secret: string, ts: number): string {
  const day = new Date(ts).toISOString().slice(0, 10);
  return createHmac('sha256', secret).update(`visitor-salt:${day}`).digest('base64url');
}

/**
 * The cookieless visitor id: a hash of the day's salt, the site, the client address and the user agent.
 * The address is only ever an input here; it is never stored or logged.
 */
export function visitorId(salt: string, site: string, address: string, userAgent: string): string {
  return createHash('sha256')
    .update(`${salt}\0${site}\0${address}\0${userAgent}`)
    .digest('base64url')
    .slice(0, 22);
}
