import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { BeaconError } from '../../errors/catalog.ts';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses, IsoTime } from '../../http/schemas.ts';
import { isoTime, isoTimeOrNull } from '../../wire/time.ts';
import type { OAuthClient } from '../model.ts';
import { newOAuthClient, type OAuthIssuer } from '../oauth.ts';
import type { AnalyticsStore } from '../store/repositories.ts';

const OAuthClientBody = Type.Object(
  {
    clientId: Type.String(),
    name: Type.String(),
    createdAt: IsoTime('When the client was made.'),
    revokedAt: Type.Union([IsoTime('When the client was revoked.'), Type.Null()]),
  },
  { $id: 'OAuthClient' },
);

const clientJson = (c: OAuthClient) => ({
  clientId: c.id,
  name: c.name,
  createdAt: isoTime(c.createdAt),
  revokedAt: isoTimeOrNull(c.revokedAt),
});

/** What the OAuth2 client routes use besides the store. */
export interface OAuthClientRouteOptions {
  readonly store: AnalyticsStore;
  /** Told of each revocation here, so the client's tokens are refused at once. */
  readonly oauth: OAuthIssuer;
  readonly scope: RouteContext['scope'];
}

/** `/v1/oauth/clients`: a tenant's OAuth2 clients, made, listed and revoked with an admin token. */
export function registerOAuthClients(base: FastifyInstance, options: OAuthClientRouteOptions): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { store, oauth, scope } = options;

  app.post(
    '/v1/oauth/clients',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: 'Create an OAuth2 client for the tenant',
        description:
          'The secret is shown once. Exchange the pair at `POST /oauth/token` for a short-lived access token.',
        security: [{ bearer: [] }],
        body: Type.Object({ name: Type.Optional(Type.String({ maxLength: 200 })) }),
        response: {
          201: Type.Object({ clientId: Type.String(), clientSecret: Type.String(), tenant: Type.String() }),
          ...errorResponses(400, 401, 403, 429),
        },
      },
    },
    async (request, reply) => {
      const { client, secret: clientSecret } = newOAuthClient(
        request.principal!.tenant,
        request.body.name ?? 'client',
      );
      await store.transaction((tx) => tx.analytics.createOAuthClient(client));
      return reply.code(201).send({ clientId: client.id, clientSecret, tenant: client.tenant });
    },
  );

  app.get(
    '/v1/oauth/clients',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: "List the tenant's OAuth2 clients",
        description: 'Revoked clients are listed with `revokedAt`. Secrets are never shown again.',
        security: [{ bearer: [] }],
        response: {
          200: Type.Object({ items: Type.Array(OAuthClientBody) }),
          ...errorResponses(401, 403, 429),
        },
      },
    },
    async (request) => ({
      items: (await store.analytics.oauthClients(request.principal!.tenant)).map(clientJson),
    }),
  );

  app.delete(
    '/v1/oauth/clients/:id',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: 'Revoke an OAuth2 client',
        description:
          "The client can no longer obtain tokens, and the access tokens it holds are refused at once by this process and within 5 s by other API processes. Revoking again changes nothing. Another tenant's client answers 404.",
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String() }),
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const revoked = await store.transaction((tx) =>
        tx.analytics.revokeOAuthClient(request.principal!.tenant, id, Date.now()),
      );
      if (!revoked) throw new BeaconError('OAUTH_CLIENT_UNKNOWN', `no OAuth2 client ${id}`);
      oauth.forget(id);
      return reply.code(204).send(null);
    },
  );
}
