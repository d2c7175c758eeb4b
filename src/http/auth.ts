import type { FastifyReply, FastifyRequest } from 'fastify';
import { BeaconError } from '../errors/catalog.ts';
import type { Authenticate, Principal, Scope } from './principal.ts';
import type { TokenBuckets } from './rate-limit.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook on every route that requires a scope. */
    principal: Principal | null;
  }
}

/** Subprotocol a browser offers to carry its token: `bearer.<token>` beside `beacon.v1`. */
export const WS_PROTOCOL = 'beacon.v1';
const WS_BEARER_PREFIX = 'bearer.';

/**
 * Finds the token: the Authorization header, or for WebSocket upgrades (where browsers cannot set
 * headers) a `bearer.<token>` subprotocol or an `access_token` query parameter.
 */
export function tokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match?.[1] ?? '';
  }
  if (request.headers.upgrade?.toLowerCase() !== 'websocket') return undefined;
  const protocols = request.headers['sec-websocket-protocol'];
  if (protocols) {
    const bearer = protocols
      .split(',')
      .map((p) => p.trim())
      .find((p) => p.startsWith(WS_BEARER_PREFIX));
    if (bearer) return bearer.slice(WS_BEARER_PREFIX.length);
  }
  return (request.query as { access_token?: string } | undefined)?.access_token;
}

/** True when the principal holds `scope`; `admin` holds its tenant's (every scope but `operator`). */
export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.includes(scope) || (scope !== 'operator' && principal.scopes.includes('admin'));
}

/**
 * Builds the onRequest hook for a route that needs `scope`. It runs before the body is read, so an
 * unauthenticated client cannot make the server buffer a large body, and applies the token's rate limit.
 */
export function requireScope(authenticator: Authenticate, buckets: TokenBuckets, scope: Scope) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const token = tokenOf(request);
    if (token === undefined) throw new BeaconError('TOKEN_MISSING');
    const principal = token ? await authenticator.authenticate(token) : null;
    if (!principal) throw new BeaconError('TOKEN_INVALID');
    if (principal.tenantDisabled) throw new BeaconError('TENANT_DISABLED');
    if (!hasScope(principal, scope)) throw new BeaconError('SCOPE_DENIED', `this needs the ${scope} scope`);
    const wait = buckets.take(principal.tokenId);
    if (wait > 0) {
      void reply.header('retry-after', String(wait));
      throw new BeaconError('RATE_LIMITED', undefined, { retryAfter: wait });
    }
    request.principal = principal;
  };
}

/**
 * Builds an onRequest hook that answers 415 unless the request's content type is one of `types`; it
 * runs before the body is read.
 */
export function requireContentType(...types: string[]) {
  return (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void => {
    const type = request.headers['content-type']?.split(';')[0]!.trim().toLowerCase();
    if (type && types.includes(type)) return done();
    done(
      new BeaconError(
        'UNSUPPORTED_MEDIA_TYPE',
        `send ${types.join(' or ')}, not ${type ?? 'no content type'}`,
      ),
    );
  };
}
