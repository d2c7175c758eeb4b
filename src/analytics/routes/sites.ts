import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { BeaconError, isBeaconError } from '../../errors/catalog.ts';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses, IsoTime } from '../../http/schemas.ts';
import { decodeCursor, page } from '../../wire/cursor.ts';
import { isoTime } from '../../wire/time.ts';
import type { Site } from '../model.ts';
import type { SiteDirectory } from '../site-directory.ts';
import { applySiteSettings, type SiteSettings } from '../site-settings.ts';
import type { AnalyticsStore } from '../store/repositories.ts';
import { ownedSite, type AccessHook } from './stats-access.ts';

const SiteBody = Type.Object(
  {
    id: Type.String(),
    domain: Type.String(),
    allowedDomains: Type.Array(Type.String()),
    timezone: Type.String(),
    respectDnt: Type.Boolean(),
    saltRotation: Type.String({ description: '`daily` or `monthly`: how long a visitor id lasts.' }),
    currency: Type.String({ description: 'ISO 4217 code revenue is totalled in.' }),
    createdAt: IsoTime('When the site was created.'),
  },
  { $id: 'Site' },
);

/**
 * The settings fields `POST` and `PATCH /v1/sites` share; `defaults` says what an absent one means at
 * creation (a change keeps it as it is).
 */
const siteSettingFields = (defaults: boolean) => {
  const absent = (value: string) => (defaults ? ` Default ${value}.` : ' Unchanged when absent.');
  return {
    allowedDomains: Type.Optional(
      Type.Array(Type.String(), {
        maxItems: 50,
        description: `Further hosts the agent may send from; subdomains included.${absent('none')}`,
      }),
    ),
    timezone: Type.Optional(Type.String({ description: `IANA zone days are counted in.${absent('UTC')}` })),
    respectDnt: Type.Optional(
      Type.Boolean({ description: `Ignore browsers sending DNT or GPC.${absent('false')}` }),
    ),
    saltRotation: Type.Optional(
      Type.Union([Type.Literal('daily'), Type.Literal('monthly')], {
        description: `How long a visitor id lasts: a UTC day (most private) or a UTC month (retention within a month). Applies to events collected from then on.${absent('daily')}`,
      }),
    ),
    currency: Type.Optional(
      Type.String({ description: `ISO 4217 code revenue is totalled in.${absent('USD')}` }),
    ),
  };
};
const NewSiteBody = Type.Object(
  { domain: Type.String({ description: 'Main host, e.g. example.com.' }), ...siteSettingFields(true) },
  { additionalProperties: false },
);
const SiteChangeBody = {
  domain: Type.Optional(Type.String({ description: 'Main host, e.g. example.com.' })),
  ...siteSettingFields(false),
};
/** Most sites one bulk call makes or changes. */
const BULK_MAX = 1000;
/** Sites a listing page holds unless `limit` says otherwise. */
const PAGE_DEFAULT = 1000;

/** A new site of `tenant` with `body`'s settings (SITE_INVALID names a bad one). */
function newSite(tenant: string, body: SiteSettings & { domain: string }): Site {
  return applySiteSettings(
    {
      id: 'st_' + randomBytes(9).toString('base64url'),
      tenant,
      domain: '',
      allowedDomains: [],
      timezone: 'UTC',
      respectDnt: false,
      saltRotation: 'daily',
      currency: 'USD',
      createdAt: Date.now(),
    },
    body,
  );
}

/** Runs `fn` for the item at index `i` of a bulk call, naming the index in the error it throws. */
function atIndex<R>(i: number, fn: () => R): R {
  try {
    return fn();
  } catch (err) {
    if (isBeaconError(err)) throw new BeaconError(err.code, `sites[${i}]: ${err.message}`);
    throw err;
  }
}

const siteJson = (s: Site) => ({
  id: s.id,
  domain: s.domain,
  allowedDomains: [...s.allowedDomains],
  timezone: s.timezone,
  respectDnt: s.respectDnt,
  saltRotation: s.saltRotation,
  currency: s.currency,
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
        body: NewSiteBody,
        response: { 201: SiteBody, ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (request, reply) => {
      const site = newSite(request.principal!.tenant, request.body);
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
        description: `Oldest first, ${PAGE_DEFAULT} a page unless \`limit\` says otherwise; \`next\` continues.`,
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: BULK_MAX })),
            after: Type.Optional(
              Type.String({ minLength: 1, description: 'The `next` of the page before.' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(SiteBody), next: Type.Union([Type.String(), Type.Null()]) }),
          ...errorResponses(400, 401, 403, 429),
        },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? PAGE_DEFAULT;
      const after =
        request.query.after === undefined
          ? undefined
          : decodeCursor(request.query.after, ['number', 'string']);
      const rows = await store.analytics.sites(request.principal!.tenant, { limit: limit + 1, after });
      return page(rows, limit, (s) => [s.createdAt, s.id], siteJson);
    },
  );

  app.post(
    '/v1/sites/bulk',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: `Create up to ${BULK_MAX} sites in one call`,
        description:
          'All or nothing: one store transaction makes every site, and a bad one (named by its index) makes none. Answers the sites in the order given.',
        security: [{ bearer: [] }],
        body: Type.Object(
          { sites: Type.Array(NewSiteBody, { minItems: 1, maxItems: BULK_MAX }) },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ items: Type.Array(SiteBody) }),
          ...errorResponses(400, 401, 403, 429),
        },
      },
    },
    async (request, reply) => {
      const made = request.body.sites.map((body, i) =>
        atIndex(i, () => newSite(request.principal!.tenant, body)),
      );
      await store.transaction(async (tx) => {
        for (const site of made) await tx.analytics.createSite(site);
      });
      for (const site of made) sites.forget(site.id);
      return reply.code(201).send({ items: made.map(siteJson) });
    },
  );

  app.patch(
    '/v1/sites/bulk',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: `Change up to ${BULK_MAX} sites in one call`,
        description:
          'All or nothing, in one store transaction: each item names a site by `id` and carries the fields to change, as `PATCH /v1/sites/:id` takes them. An id the tenant does not have, or a bad setting, is named by its index and changes nothing.',
        security: [{ bearer: [] }],
        body: Type.Object(
          {
            sites: Type.Array(
              Type.Object(
                { id: Type.String(), ...SiteChangeBody },
                { additionalProperties: false, minProperties: 2 },
              ),
              { minItems: 1, maxItems: BULK_MAX },
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(SiteBody) }),
          ...errorResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request) => {
      const { tenant } = request.principal!;
      const changed = await store.transaction(async (tx) => {
        const out: Site[] = [];
        for (const [i, { id, ...change }] of request.body.sites.entries()) {
          const site = await tx.analytics.site(id);
          if (!site || site.tenant !== tenant)
            throw new BeaconError('SITE_UNKNOWN', `sites[${i}]: no site ${id}`);
          const next = atIndex(i, () => applySiteSettings(site, change));
          await tx.analytics.updateSite(next);
          out.push(next);
        }
        return out;
      });
      for (const site of changed) sites.forget(site.id);
      return { items: changed.map(siteJson) };
    },
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
        body: Type.Object(SiteChangeBody, { additionalProperties: false, minProperties: 1 }),
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
