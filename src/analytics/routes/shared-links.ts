import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { BeaconError } from '../../errors/catalog.ts';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses, IsoTime } from '../../http/schemas.ts';
import { isoTime, isoTimeOrNull } from '../../wire/time.ts';
import type { SharedLink } from '../model.ts';
import { hashPassword, newSecret, secretHash, type SharedLinks } from '../shared-links.ts';
import type { AnalyticsStore } from '../store/repositories.ts';
import { SiteParams } from './schemas.ts';
import { ownedSite } from './stats-access.ts';

const SharedLinkBody = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    hint: Type.String({ description: "The secret's first characters after `shr_`, to tell links apart." }),
    passwordProtected: Type.Boolean(),
    createdAt: IsoTime('When the link was made.'),
    revokedAt: Type.Union([IsoTime('When the link was revoked.'), Type.Null()]),
  },
  { $id: 'SharedLink' },
);

const linkJson = (l: SharedLink) => ({
  id: l.id,
  name: l.name,
  hint: l.hint,
  passwordProtected: l.passwordHash !== null,
  createdAt: isoTime(l.createdAt),
  revokedAt: isoTimeOrNull(l.revokedAt),
});

/** What the shared-link routes use. */
export interface SharedLinkRouteOptions {
  readonly store: AnalyticsStore;
  readonly links: SharedLinks;
  readonly scope: RouteContext['scope'];
}

/**
 * `/v1/sites/:id/shared-links`: secret links to a read-only dashboard of the site, made, listed and
 * revoked with an admin token. The secret is shown once, at creation.
 */
export function registerSharedLinks(base: FastifyInstance, options: SharedLinkRouteOptions): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { store, links, scope } = options;

  app.post(
    '/v1/sites/:id/shared-links',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: 'Make a shared link to a read-only dashboard of the site',
        description:
          'The secret is shown once: open `/share#SECRET` in a browser. The dashboard it opens shows this site only, read-only; with a `password`, visitors must unlock it first. Revoking the link (`DELETE`) closes it for everyone, within 5 s in other API processes.',
        security: [{ bearer: [] }],
        params: SiteParams,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 120 }),
            password: Type.Optional(Type.String({ minLength: 8, maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            ...SharedLinkBody.properties,
            secret: Type.String({ description: 'Shown only now.' }),
            path: Type.String({ description: 'The dashboard, relative to Beacon: `/share#SECRET`.' }),
          }),
          ...errorResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request, reply) => {
      const site = await ownedSite(store.analytics, request, request.params.id);
      const { secret, hint } = newSecret();
      const link: SharedLink = {
        tenant: site.tenant,
        site: site.id,
        id: 'sl_' + randomBytes(9).toString('base64url'),
        name: request.body.name,
        secretHash: secretHash(secret),
        hint,
        passwordHash: request.body.password === undefined ? null : await hashPassword(request.body.password),
        createdAt: Date.now(),
        revokedAt: null,
      };
      await store.transaction((tx) => tx.analytics.createSharedLink(link));
      return reply.code(201).send({ ...linkJson(link), secret, path: `/share#${secret}` });
    },
  );

  app.get(
    '/v1/sites/:id/shared-links',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: "List the site's shared links",
        description: 'Revoked links are listed with `revokedAt`. Secrets are never shown again.',
        security: [{ bearer: [] }],
        params: SiteParams,
        response: {
          200: Type.Object({ items: Type.Array(SharedLinkBody) }),
          ...errorResponses(401, 403, 404, 429),
        },
      },
    },
    async (request) => {
      const site = await ownedSite(store.analytics, request, request.params.id);
      return { items: (await store.analytics.sharedLinks(site.tenant, site.id)).map(linkJson) };
    },
  );

  app.delete(
    '/v1/sites/:id/shared-links/:link',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: 'Revoke a shared link',
        description:
          'The dashboard it opened answers SHARE_UNKNOWN from then on. Revoking again changes nothing.',
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String(), link: Type.String() }),
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const site = await ownedSite(store.analytics, request, request.params.id);
      const { link: id } = request.params;
      const revoked = await store.transaction((tx) =>
        tx.analytics.revokeSharedLink(site.tenant, site.id, id, Date.now()),
      );
      if (!revoked) throw new BeaconError('SHARE_UNKNOWN', `no shared link ${id}`);
      const link = (await store.analytics.sharedLinks(site.tenant, site.id)).find((l) => l.id === id);
      if (link) links.forget(link);
      return reply.code(204).send(null);
    },
  );
}
