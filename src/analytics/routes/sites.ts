import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { BeaconError } from '../../errors/catalog.ts';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses, IsoTime } from '../../http/schemas.ts';
import { isoTime } from '../../wire/time.ts';
import type { Site } from '../model.ts';
import type { SiteDirectory } from '../site-directory.ts';
import { applySiteSettings } from '../site-settings.ts';
import type { AnalyticsStore } from '../store/repositories.ts';
import { ownedSite, type AccessHook } from './stats-access.ts';

const SiteBody = Type.Object(
  {
    id: Type.String(),
    domain: Type.String(),
    allowedDomains: Type.Array(Type.String()),
    timezone: Type.String(),
    respectDnt: Type.Boolean(),
    createdAt: IsoTime('When the site was created.'),
  },
  { $id: 'Site' },
);

/** The settings fields `POST` and `PATCH /v1/sites` share; `when` says what an absent one means. */
const siteSettingFields = (when: string) => ({
  allowedDomains: Type.Optional(
    Type.Array(Type.String(), {
      maxItems: 50,
      description: `Further hosts the agent may send from; subdomains included (${when}).`,
    }),
  ),
  timezone: Type.Optional(Type.String({ description: `IANA zone days are counted in (${when}).` })),
  respectDnt: Type.Optional(Type.Boolean({ description: `Ignore browsers sending DNT or GPC (${when}).` })),
});

const siteJson = (s: Site) => ({
  id: s.id,
  domain: s.domain,
  allowedDomains: [...s.allowedDomains],
  timezone: s.timezone,
  respectDnt: s.respectDnt,
  createdAt: isoTime(s.createdAt),
});

/** What the site routes use besides the store. */
export interface SiteRouteOptions {
  readonly store: AnalyticsStore;
  /** Collection's cache of sites, told of each change made here. */
  readonly sites: SiteDirectory;
  readonly scope: RouteContext['scope'];
  readonly statsAuth: AccessHook;
}

/**
 * `/v1/sites` and `/v1/sites/:id`: a tenant's sites, created, changed and deleted with an admin token,
 * read with any stats access.
 */
export function registerSites(base: FastifyInstance, options: SiteRouteOptions): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { store, sites, scope, statsAuth } = options;

  app.post(
    '/v1/sites',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: 'Create a site',
        description: "A site belongs to the token's tenant. Its id goes in the agent snippet's `data-site`.",
        security: [{ bearer: [] }],
        body: Type.Object(
          {
            domain: Type.String({ description: 'Main host, e.g. example.com.' }),
            ...siteSettingFields('default none; UTC; false'),
          },
          { additionalProperties: false },
        ),
        response: { 201: SiteBody, ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (request, reply) => {
      const site = applySiteSettings(
        {
          id: 'st_' + randomBytes(9).toString('base64url'),
          tenant: request.principal!.tenant,
          domain: '',
          allowedDomains: [],
          timezone: 'UTC',
          respectDnt: false,
          saltRotation: 'daily',
          currency: 'USD',
          createdAt: Date.now(),
        },
        request.body,
      );
      await store.transaction((tx) => tx.analytics.createSite(site));
      sites.forget(site.id);
      return reply.code(201).send(siteJson(site));
    },
  );

  app.get(
    '/v1/sites',
    {
      onRequest: statsAuth,
      schema: {
        tags: ['analytics'],
        summary: "List the tenant's sites",
        security: [{ bearer: [] }],
        response: { 200: Type.Object({ items: Type.Array(SiteBody) }), ...errorResponses(401, 403, 429) },
      },
    },
    async (request) => ({ items: (await store.analytics.sites(request.principal!.tenant)).map(siteJson) }),
  );

  app.get(
    '/v1/sites/:id',
    {
      onRequest: statsAuth,
      schema: {
        tags: ['analytics'],
        summary: 'One site',
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String() }),
        response: { 200: SiteBody, ...errorResponses(401, 403, 404, 429) },
      },
    },
    async (request) => siteJson(await ownedSite(store.analytics, request, request.params.id)),
  );

  app.patch(
    '/v1/sites/:id',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: "Change a site's settings",
        description:
          "Only the fields sent change. Domains take effect for collection at once in this process and within 5 s in other API processes. Rollups are bucketed in the site's zone when projected: after a zone change, days already projected keep the old zone until `beacon reprocess` rebuilds them.",
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String() }),
        body: Type.Object(
          {
            domain: Type.Optional(Type.String({ description: 'Main host, e.g. example.com.' })),
            ...siteSettingFields('unchanged when absent'),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: SiteBody, ...errorResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const { tenant } = request.principal!;
      const changed = await store.transaction(async (tx) => {
        const site = await tx.analytics.site(request.params.id);
        if (!site || site.tenant !== tenant)
          throw new BeaconError('SITE_UNKNOWN', `no site ${request.params.id}`);
        const next = applySiteSettings(site, request.body);
        await tx.analytics.updateSite(next);
        return next;
      });
      sites.forget(changed.id);
      return siteJson(changed);
    },
  );

  app.delete(
    '/v1/sites/:id',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: 'Delete a site and its data',
        description:
          "Collection for the site stops at once in this process and within 5 s in other API processes (`SITE_UNKNOWN`). Its projected data (events, sessions, rollups) is deleted in the same transaction and cannot be recovered; records of it still in the log until log retention are never projected again. Another tenant's site answers 404.",
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String() }),
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const deleted = await store.transaction((tx) => tx.analytics.deleteSite(request.principal!.tenant, id));
      // After the commit: a collect that looked the site up while the delete ran has cached it again.
      sites.forget(id);
      if (!deleted) throw new BeaconError('SITE_UNKNOWN', `no site ${id}`);
      return reply.code(204).send(null);
    },
  );
}
