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
 * How long past its expiry a cached answer still stands in when the store cannot be asked (it is
 * restarting, or unreachable): ingest goes into the log, not the store, so a store outage must not
 * turn away a client whose token was good a moment ago. A revocation made meanwhile waits for the
 * store to come back, as it could not be read anyway.
 */
const STALE_IF_ERROR_MS = 10 * 60_000;

interface Cached<T> {
  readonly value: T;
  readonly expires: number;
}

/**
 * A fresh cached answer, or the store's; when the store fails, an answer that expired less than
 * STALE_IF_ERROR_MS ago rather than the failure.
 */
async function cachedOrAsk<T>(cache: Map<string, Cached<T>>, key: string, ask: () => Promise<T>): Promise<T> {
  const now = Date.now();
  const hit = cache.get(key);
  if (hit && hit.expires > now) return hit.value;
  let value: T;
  try {
    value = await ask();
  } catch (err) {
    if (hit && now - hit.expires < STALE_IF_ERROR_MS) return hit.value;
    throw err;
  }
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(key, { value, expires: now + CACHE_TTL_MS });
  return value;
}

/**
 * Resolves bearer secrets to principals. Lookups are cached for a few seconds so the ingest hot path
 * does not query the store per request; a revocation takes effect within that time. While the store
 * cannot answer, answers up to STALE_IF_ERROR_MS old stand in.
 */
export class Authenticator implements Authenticate {
  readonly #tenants: TenantRepository;
  readonly #cache = new Map<string, Cached<Principal | null>>();
  readonly #disabled = new Map<string, Cached<boolean>>();

  constructor(tenants: TenantRepository) {
    this.#tenants = tenants;
  }

  authenticate(secret: string): Promise<Principal | null> {
    const hash = hashToken(secret);
    return cachedOrAsk(this.#cache, hash, () => this.#lookUp(hash));
  }

  async #lookUp(hash: string): Promise<Principal | null> {
    const token = await this.#tenants.tokenByHash(hash);
    const tenant = token && token.revokedAt === null ? await this.#tenants.get(token.tenant) : undefined;
    return token && tenant
      ? {
          tenant: token.tenant,
          scopes: token.scopes,
          tokenId: token.id,
          tenantDisabled: (tenant.disabledAt ?? null) !== null,
        }
      : null;
  }

  /**
   * Whether a tenant is disabled, for paths that authenticate otherwise (OAuth2 access tokens, the
   * public collect endpoint). Cached like tokens.
   */
  tenantDisabled(id: string): Promise<boolean> {
    return cachedOrAsk(this.#disabled, id, async () => {
      const tenant = await this.#tenants.get(id);
      return tenant === undefined || (tenant.disabledAt ?? null) !== null;
    });
  }

  /** Forgets cached answers, so a revocation or a tenant disabled in this process applies at once. */
  forget(): void {
    this.#cache.clear();
    this.#disabled.clear();
  }
}
