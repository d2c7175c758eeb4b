import type { FastifyReply, FastifyRequest } from 'fastify';
import { BeaconError } from '../../errors/catalog.ts';
import { tokenOf } from '../../http/auth.ts';
import type { TokenBuckets } from '../../http/rate-limit.ts';
import type { Site } from '../model.ts';
import { looksLikeJwt, type OAuthIssuer } from '../oauth.ts';
import type { AnalyticsReader } from '../store/repositories.ts';

/** An onRequest hook that admits a request or throws. */
export type AccessHook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * The stats routes' hook: a tenant token with `read` (checked by `readScope`), or an OAuth2 access
 * token, rate-limited per OAuth2 client in `buckets`.
 */
export function statsAuth(
  oauth: OAuthIssuer,
  buckets: TokenBuckets,
  readScope: AccessHook,
  tenantDisabled: (tenant: string) => Promise<boolean>,
): AccessHook {
  return async (request, reply) => {
    const token = tokenOf(request);
    if (token && looksLikeJwt(token)) {
      const principal = await oauth.verify(token);
      if (!principal) throw new BeaconError('TOKEN_INVALID', 'the access token is not valid or has expired');
      if (await tenantDisabled(principal.tenant)) throw new BeaconError('TENANT_DISABLED');
      const wait = buckets.take(principal.tokenId);
      if (wait > 0) throw new BeaconError('RATE_LIMITED', undefined, { retryAfter: wait });
      request.principal = principal;
      return;
    }
    await readScope(request, reply);
  };
}

/** The site, if the caller's tenant owns it; another tenant's site is reported as unknown. */
export async function ownedSite(reader: AnalyticsReader, request: FastifyRequest, id: string): Promise<Site> {
  const site = await reader.site(id);
  if (!site || site.tenant !== request.principal!.tenant)
    throw new BeaconError('SITE_UNKNOWN', `no site ${id}`);
  return site;
}
