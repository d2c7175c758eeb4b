import type { Api } from './api.ts';

/** Where the API token lives between visits. Only ever sent in headers and subprotocols, never in a URL. */
export const TOKEN_KEY = 'beacon.token';

/** A signed-in dashboard: the token, the API it opens, and the way out. */
export interface Session {
  readonly token: string;
  readonly api: Api;
  /** Forgets the token; `reason` is shown on the sign-in form (a revoked token, say). */
  signOut(reason?: string): void;
}

// Storage can be unavailable (disabled cookies, some private modes). The dashboard then still works
// for this visit, and asks for the token again on the next one.

/** The saved token, or null. */
export function loadToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string): void {
  try {
    localStorage.setItem(TOKEN_KEY, token);
  } catch {
    // See above: kept in memory only.
  }
}

export function clearToken(): void {
  try {
    localStorage.removeItem(TOKEN_KEY);
  } catch {
    // See above: nothing was saved.
  }
}
