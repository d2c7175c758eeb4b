import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { v7 as uuidv7 } from 'uuid';
import { BeaconError } from '../errors/catalog.ts';
import type { Principal } from '../http/principal.ts';
import type { OAuthClient } from './model.ts';
import type { AnalyticsReader } from './store/repositories.ts';

const ISSUER = 'beacon';
/** How long a client's standing (known, not revoked) is trusted before the store is asked again. */
const STANDING_TTL_MS = 5000;
const AUDIENCE = 'beacon-stats';
const hash = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** A new client for a tenant; the secret is returned once, only its hash is kept. */
export function newOAuthClient(tenant: string, name: string): { client: OAuthClient; secret: string } {
  const secret = 'bcs_' + randomBytes(24).toString('base64url');
  return {
    secret,
    client: {
      id: 'bcc_' + uuidv7().replace(/-/g, ''),
      tenant,
      name,
      secretHash: hash(secret),
      createdAt: Date.now(),
      revokedAt: null,
    },
  };
}

/**
 * OAuth2 client-credentials (seed 003): trades a client id and secret for a short-lived HS256 JWT that
 * names the tenant, signed with a key derived from the server secret so every API process can verify it.
 */
export class OAuthIssuer {
  readonly #key: Uint8Array;
  readonly #ttlSeconds: number;
  readonly #reader: AnalyticsReader;
  readonly #standing = new Map<string, { active: boolean; expires: number }>();

  constructor(serverSecret: string, ttlSeconds: number, reader: AnalyticsReader) {
    this.#key = createHmac('sha256', serverSecret).update('oauth-jwt-key').digest();
    this.#ttlSeconds = ttlSeconds;
    this.#reader = reader;
  }

  /** Checks the client's credentials and issues an access token; OAUTH_INVALID_CLIENT otherwise. */
  async issue(clientId: string, clientSecret: string): Promise<{ token: string; expiresIn: number }> {
    const client = await this.#reader.oauthClient(clientId);
    const given = Buffer.from(hash(clientSecret));
    if (!client || client.revokedAt !== null || !timingSafeEqual(given, Buffer.from(client.secretHash))) {
      throw new BeaconError('OAUTH_INVALID_CLIENT');
    }
    const token = await new SignJWT({ tenant: client.tenant, scope: 'read' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(client.id)
      .setIssuedAt()
      .setExpirationTime(`${this.#ttlSeconds}s`)
      .sign(this.#key);
    return { token, expiresIn: this.#ttlSeconds };
  }

  /** Forgets what is known of a client (after revoking it here), so its tokens are refused at once. */
  forget(clientId: string): void {
    this.#standing.delete(clientId);
  }

  /**
   * True while the client exists and is not revoked. Cached for a few seconds, so a token costs a store
   * read per client every few seconds rather than per request, and a revocation in another API process
   * takes effect within that time.
   */
  async #active(clientId: string): Promise<boolean> {
    const now = Date.now();
    const hit = this.#standing.get(clientId);
    if (hit && hit.expires > now) return hit.active;
    const client = await this.#reader.oauthClient(clientId);
    const active = client !== undefined && client.revokedAt === null;
    if (this.#standing.size > 10_000) this.#standing.clear();
    this.#standing.set(clientId, { active, expires: now + STANDING_TTL_MS });
    return active;
  }

  /**
   * The principal an access token stands for, or null when it is not one of ours, has expired, or its
   * client has been revoked.
   */
  async verify(token: string): Promise<Principal | null> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#key, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['HS256'],
      }));
    } catch {
      return null;
    }
    if (typeof payload.tenant !== 'string' || typeof payload.sub !== 'string') return null;
    // Outside the try: a store that cannot answer is a 503, not an invalid token.
    if (!(await this.#active(payload.sub))) return null;
    return { tenant: payload.tenant, scopes: ['read'], tokenId: `oauth:${payload.sub}` };
  }
}

/** JWTs have three dot-separated parts; Beacon's own tokens have none. */
export const looksLikeJwt = (token: string) => token.split('.').length === 3;
