import { randomBytes } from 'node:crypto';
import type { BadgeTokenRepository } from './store/repositories.ts';
import { hashToken } from './tokens.ts';

/** Badge secrets have their own prefix, so one found in a README is told from an API token at a glance. */
const BADGE_PREFIX = 'bcnb_';

/** Makes (or replaces) the tenant's badge token; the secret is returned once and never stored. */
export async function rotateBadgeToken(
  badgeTokens: BadgeTokenRepository,
  tenant: string,
  at: number,
): Promise<string> {
  const secret = BADGE_PREFIX + randomBytes(24).toString('base64url');
  await badgeTokens.put(tenant, hashToken(secret), at);
  return secret;
}

/**
 * The tenant a badge secret belongs to, or undefined. Asked of the store on every badge: one lookup
 * by a unique index, and a rotation or revocation holds at once on every API process.
 */
export function badgeTokenTenant(
  badgeTokens: BadgeTokenRepository,
  secret: string,
): Promise<string | undefined> {
  return badgeTokens.tenantOf(hashToken(secret));
}
