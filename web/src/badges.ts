import { ApiError, callJson } from './api.ts';

/**
 * Badges: the tenant's badge token (made and revoked in settings) and the URLs it opens. The API
 * shows a badge secret once; the dashboard keeps the last one it made in this browser, so a target's
 * page can show ready-to-paste URLs.
 */
const SECRET_KEY = 'beacon.badgeToken';

/** The badges of a target, in the order the panel lists them, with what each shows. */
export const BADGE_KINDS = [
  ['status', 'Status'],
  ['uptime-24h', 'Uptime, 24 hours'],
  ['uptime-7d', 'Uptime, 7 days'],
  ['uptime-30d', 'Uptime, 30 days'],
  ['uptime-90d', 'Uptime, 90 days'],
  ['response', 'Average response, 24 hours'],
  ['cert', 'Certificate expiry'],
] as const;

/** What a URL shows in place of a secret this browser does not know. */
export const SECRET_PLACEHOLDER = 'YOUR_BADGE_TOKEN';

export function savedBadgeSecret(): string | null {
  try {
    return localStorage.getItem(SECRET_KEY);
  } catch {
    return null;
  }
}

function saveBadgeSecret(secret: string | null): void {
  try {
    if (secret === null) localStorage.removeItem(SECRET_KEY);
    else localStorage.setItem(SECRET_KEY, secret);
  } catch {
    // Storage unavailable: the secret is shown once all the same.
  }
}

/** A target's badge URL on this server. */
export function badgeUrl(target: string, kind: string, secret: string | null): string {
  const token = secret === null ? SECRET_PLACEHOLDER : encodeURIComponent(secret);
  return `${location.origin}/badge/${encodeURIComponent(target)}/${kind}.svg?token=${token}`;
}

/** When the tenant's badge token was made, or null when it has none. */
export async function badgeTokenCreatedAt(token: string, signal?: AbortSignal): Promise<string | null> {
  try {
    return ((await callJson(token, 'GET', '/v1/badge-token', undefined, signal)) as { createdAt: string })
      .createdAt;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

/** Makes a new badge token (the old one stops working) and keeps its secret in this browser. */
export async function rotateBadgeToken(token: string): Promise<{ token: string; createdAt: string }> {
  const made = (await callJson(token, 'POST', '/v1/badge-token')) as { token: string; createdAt: string };
  saveBadgeSecret(made.token);
  return made;
}

/** Revokes the badge token: every badge URL with it stops working. */
export async function revokeBadgeToken(token: string): Promise<void> {
  await callJson(token, 'DELETE', '/v1/badge-token');
  saveBadgeSecret(null);
}
