/**
 * Shared dashboards: a secret link that opens one site's dashboard read-only, optionally behind a
 * password, revocable. The secret travels in the page URL's fragment and then in a header, so it
 * never appears in a request line, a server log or a Referer. Only its SHA-256 is stored, as with
 * tokens; a password is kept as an scrypt hash. An unlocked link gets a short-lived token.
 */
import { createHash, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { jwtVerify, SignJWT } from 'jose';
import type { SharedLink } from './model.ts';
import type { AnalyticsReader } from './store/repositories.ts';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, length: number) => Promise<Buffer>;
const AUDIENCE = 'beacon-share';
/** How long an unlocked shared dashboard stays unlocked. */
export const UNLOCK_TTL_SECONDS = 12 * 3600;
/** How long a link's standing is trusted before the store is asked again (revocation elsewhere). */
const CACHE_MS = 5000;

/** The SHA-256 a link's secret is looked up by. */
export const secretHash = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** A new secret for a link, and the first characters shown to tell links apart. */
export function newSecret(): { secret: string; hint: string } {
  const secret = 'shr_' + randomBytes(24).toString('base64url');
  return { secret, hint: secret.slice(4, 10) };
}

/** scrypt hash of a password, as `salt.hash` in base64url (scrypt runs on the thread pool, off the event loop). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, 32);
  return `${salt.toString('base64url')}.${hash.toString('base64url')}`;
}

/** True when `password` hashes to `stored`. */
export async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [salt, hash] = stored.split('.');
  if (!salt || !hash) return false;
  const given = await scryptAsync(password, Buffer.from(salt, 'base64url'), 32);
  const expected = Buffer.from(hash, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Finds shared links by secret (cached a few seconds, so revocation in another API process takes
 * effect within that time; here at once through `forget`) and issues and checks unlock tokens, signed
 * with a key derived from the server secret so every API process accepts them.
 */
export class SharedLinks {
  readonly #reader: AnalyticsReader;
  readonly #key: Uint8Array;
  readonly #cache = new Map<string, { link: SharedLink | undefined; expires: number }>();

  constructor(reader: AnalyticsReader, serverSecret: string) {
    this.#reader = reader;
    this.#key = createHmac('sha256', serverSecret).update('share-jwt-key').digest();
  }

  /** The live (not revoked) link with this secret. */
  async find(secret: string): Promise<SharedLink | undefined> {
    const hash = secretHash(secret);
    const now = Date.now();
    const hit = this.#cache.get(hash);
    let link = hit && hit.expires > now ? hit.link : undefined;
    if (!hit || hit.expires <= now) {
      link = await this.#reader.sharedLink(hash);
      if (this.#cache.size > 10_000) this.#cache.clear();
      this.#cache.set(hash, { link, expires: now + CACHE_MS });
    }
    return link && link.revokedAt === null ? link : undefined;
  }

  /** Forgets what is cached of a link (after revoking it here). */
  forget(link: SharedLink): void {
    this.#cache.delete(link.secretHash);
  }

  /** A token that unlocks `link` for `UNLOCK_TTL_SECONDS`. */
  unlockToken(link: SharedLink): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setAudience(AUDIENCE)
      .setSubject(link.id)
      .setIssuedAt()
      .setExpirationTime(`${UNLOCK_TTL_SECONDS}s`)
      .sign(this.#key);
  }

  /** True when `token` unlocks `link` (and no other). */
  async unlocks(link: SharedLink, token: string | undefined): Promise<boolean> {
    if (!token) return false;
    try {
      const { payload } = await jwtVerify(token, this.#key, { audience: AUDIENCE, algorithms: ['HS256'] });
      return payload.sub === link.id;
    } catch {
      return false;
    }
  }
}
