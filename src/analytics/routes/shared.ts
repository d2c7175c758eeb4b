import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { BeaconError } from '../../errors/catalog.ts';
import { tokenOf } from '../../http/auth.ts';
import type { TokenBuckets } from '../../http/rate-limit.ts';
import { errorResponses } from '../../http/schemas.ts';
import { goalJson, segmentJson } from './definitions.ts';
import type { SharedLink, Site } from '../model.ts';
import type { QueryOptions } from '../query.ts';
import { passwordMatches, UNLOCK_TTL_SECONDS, type SharedLinks } from '../shared-links.ts';
import type { AnalyticsReader } from '../store/repositories.ts';
import type { AccessHook } from './stats-access.ts';
import { registerStatsQuery } from './stats-query.ts';
import { registerVisitAnalyses } from './visit-analyses.ts';

/** The header a shared dashboard sends its link's secret in (never the URL: it would reach logs). */
export const SHARE_HEADER = 'x-beacon-share';

/** What the shared dashboard routes use. */
export interface SharedRouteOptions {
  readonly reader: AnalyticsReader;
  readonly links: SharedLinks;
  /** Per link: how often its dashboard may be read. */
  readonly buckets: TokenBuckets;
  /** Per link and client address: how often its password may be tried. */
  readonly unlockBuckets: TokenBuckets;
  readonly tenantDisabled: (tenant: string) => Promise<boolean>;
  readonly options: QueryOptions;
}

/** What a request through a shared link reaches: the link and its one site. */
const reached = new WeakMap<FastifyRequest, { link: SharedLink; site: Site }>();

/**
 * `/v1/shared/…`: a site's read-only dashboard through a shared link. The link's secret comes in the
 * `X-Beacon-Share` header, and the site is the link's, whatever the request says: nothing here takes a
 * site id, so no link can reach another site. A link with a password needs the token
 * `POST /v1/shared/unlock` gives, as a bearer token.
 */
export function registerShared(base: FastifyInstance, o: SharedRouteOptions): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();

  /** Finds the link and its site; with `unlocked`, also requires a password-protected link to be unlocked. */
  const access =
    (unlocked: boolean): AccessHook =>
    async (request) => {
      const secret = request.headers[SHARE_HEADER];
      const link = typeof secret === 'string' && secret !== '' ? await o.links.find(secret) : undefined;
      if (!link) throw new BeaconError('SHARE_UNKNOWN');
      const site = await o.reader.site(link.site);
      if (!site || site.tenant !== link.tenant) throw new BeaconError('SHARE_UNKNOWN');
      if (await o.tenantDisabled(link.tenant)) throw new BeaconError('TENANT_DISABLED');
      const wait = o.buckets.take(link.id);
      if (wait > 0) throw new BeaconError('RATE_LIMITED', undefined, { retryAfter: wait });
      if (unlocked && link.passwordHash !== null && !(await o.links.unlocks(link, tokenOf(request))))
        throw new BeaconError('SHARE_LOCKED');
      reached.set(request, { link, site });
    };
  const security = [{ share: [] }];

  app.get(
    '/v1/shared',
    {
      onRequest: access(false),
      schema: {
        tags: ['analytics'],
        summary: 'What a shared link opens: the site, and whether it needs its password',
        description:
          "Send the link's secret in `X-Beacon-Share`. A locked link (password, no unlock token) shows only its name and the site's domain; an open or unlocked one also lists the site's goals and segments.",
        security,
        response: {
          200: Type.Object({
            name: Type.String(),
            domain: Type.String(),
            locked: Type.Boolean(),
            timezone: Type.Optional(Type.String()),
            currency: Type.Optional(Type.String()),
            saltRotation: Type.Optional(Type.String()),
            goals: Type.Optional(
              Type.Array(Type.Object({ name: Type.String(), description: Type.String() })),
            ),
            segments: Type.Optional(Type.Array(Type.Object({ id: Type.String(), name: Type.String() }))),
          }),
          ...errorResponses(403, 404, 429),
        },
      },
    },
    async (request) => {
      const { link, site } = reached.get(request)!;
      const locked = link.passwordHash !== null && !(await o.links.unlocks(link, tokenOf(request)));
      if (locked) return { name: link.name, domain: site.domain, locked };
      const [goals, segments] = await Promise.all([
        o.reader.definitions(site.tenant, site.id, 'goal'),
        o.reader.definitions(site.tenant, site.id, 'segment'),
      ]);
      return {
        name: link.name,
        domain: site.domain,
        locked,
        timezone: site.timezone,
        currency: site.currency,
        saltRotation: site.saltRotation,
        goals: goals.map(goalJson).map(({ name, description }) => ({ name, description })),
        segments: segments.map(segmentJson).map(({ id, name }) => ({ id, name })),
      };
    },
  );

  app.post(
    '/v1/shared/unlock',
    {
      onRequest: access(false),
      schema: {
        tags: ['analytics'],
        summary: 'Unlock a password-protected shared link',
        description: `Answers a token that unlocks this link (and no other) for ${UNLOCK_TTL_SECONDS / 3600} hours; send it as a bearer token with the secret. Tries are rate-limited per link and client address.`,
        security,
        body: Type.Object({ password: Type.String({ maxLength: 200 }) }, { additionalProperties: false }),
        response: {
          200: Type.Object({ token: Type.String(), expiresIn: Type.Integer() }),
          ...errorResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request) => {
      const { link } = reached.get(request)!;
      const wait = o.unlockBuckets.take(`${link.id}:${request.ip}`);
      if (wait > 0) throw new BeaconError('RATE_LIMITED', 'too many password tries', { retryAfter: wait });
      if (link.passwordHash === null || !(await passwordMatches(request.body.password, link.passwordHash)))
        throw new BeaconError('SHARE_PASSWORD_WRONG');
      return { token: await o.links.unlockToken(link), expiresIn: UNLOCK_TTL_SECONDS };
    },
  );

  const mount = {
    prefix: '/v1/shared',
    params: Type.Object({}),
    onRequest: access(true),
    site: (request: FastifyRequest) => Promise.resolve(reached.get(request)!.site),
    security,
    reader: o.reader,
    options: o.options,
  };
  registerStatsQuery(base, mount);
  registerVisitAnalyses(base, mount);
}
