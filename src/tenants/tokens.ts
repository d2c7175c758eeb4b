import { createHash, randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import type { Authenticate, Principal, Scope } from '../http/principal.ts';
import type { TokenRecord } from './model.ts';
import type { TenantRepository } from './store/repositories.ts';

const TOKEN_PREFIX = 'bcn_';

/** The SHA-256 of a token secret, hex; the only form a token is stored in. */
export function hashToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A new random token secret: `bcn_` and 32 base64url characters (192 bits). */
export function generateTokenSecret(): string {
  return TOKEN_PREFIX + randomBytes(24).toString('base64url');
}

/** Creates a token for a tenant; the secret is returned once and never stored. */
export async function createToken(
  tenants: TenantRepository,
  input: { tenant: string; name: string; scopes: readonly Scope[]; secret?: string },
): Promise<{ secret: string; token: TokenRecord }> {
  const secret = input.secret ?? generateTokenSecret();
  const token: TokenRecord = {
    id: uuidv7(),
    tenant: input.tenant,
    name: input.name,
    scopes: [...new Set(input.scopes)],
    hash: hashToken(secret),
    createdAt: Date.now(),
    revokedAt: null,
  };
  await tenants.addToken(token);
  return { secret, token };
}

const CACHE_TTL_MS = 5000;
const CACHE_MAX = 10000;

/**
 * Resolves bearer secrets to principals. Lookups are cached for a few seconds so the ingest hot path
 * does not query the store per request; a revocation takes effect within that time.
 */
export class Authenticator implements Authenticate {
  readonly #tenants: TenantRepository;
  readonly #cache = new Map<string, { principal: Principal | null; expires: number }>();
  readonly #disabled = new Map<string, { disabled: boolean; expires: number }>();

  constructor(tenants: TenantRepository) {
    this.#tenants = tenants;
  }

  async authenticate(secret: string): Promise<Principal | null> {
    const hash = hashToken(secret);
    const now = Date.now();
    const hit = this.#cache.get(hash);
    if (hit && hit.expires > now) return hit.principal;
    const token = await this.#tenants.tokenByHash(hash);
    const tenant = token && token.revokedAt === null ? await this.#tenants.get(token.tenant) : undefined;
    const principal =
      token && tenant
        ? {
            tenant: token.tenant,
            scopes: token.scopes,
            tokenId: token.id,
            tenantDisabled: (tenant.disabledAt ?? null) !== null,
          }
        : null;
    if (this.#cache.size >= CACHE_MAX) this.#cache.clear();
    this.#cache.set(hash, { principal, expires: now + CACHE_TTL_MS });
    return principal;
  }

  /**
   * Whether a tenant is disabled, for paths that authenticate otherwise (OAuth2 access tokens, the
   * public collect endpoint). Cached like tokens.
   */
  async tenantDisabled(id: string): Promise<boolean> {
    const now = Date.now();
    const hit = this.#disabled.get(id);
    if (hit && hit.expires > now) return hit.disabled;
    const tenant = await this.#tenants.get(id);
    const disabled = tenant === undefined || (tenant.disabledAt ?? null) !== null;
    if (this.#disabled.size >= CACHE_MAX) this.#disabled.clear();
    this.#disabled.set(id, { disabled, expires: now + CACHE_TTL_MS });
    return disabled;
  }

  /** Forgets cached answers, so a revocation or a tenant disabled in this process applies at once. */
  forget(): void {
    this.#cache.clear();
    this.#disabled.clear();
  }
}
