import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { BeaconError } from '../../errors/catalog.ts';
import { requireContentType } from '../../http/auth.ts';
import { errorResponses } from '../../http/schemas.ts';
import type { OAuthIssuer } from '../oauth.ts';

/** `POST /oauth/token`: an OAuth2 client's id and secret traded for a short-lived access token. */
export async function registerOAuthToken(app: FastifyInstance, oauth: OAuthIssuer): Promise<void> {
  await app.register((scoped, _opts, done) => {
    scoped.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_request, body, next) => next(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    scoped.withTypeProvider<TypeBoxTypeProvider>().post(
      '/oauth/token',
      {
        onRequest: requireContentType('application/x-www-form-urlencoded', 'application/json'),
        schema: {
          tags: ['analytics'],
          summary: 'OAuth2 client-credentials token',
          description:
            "RFC 6749 §4.4: `grant_type=client_credentials` with `client_id` and `client_secret` (form or JSON body, or HTTP Basic). Returns a short-lived JWT that the stats API accepts as a bearer token for the client's tenant.",
          body: Type.Object({
            grant_type: Type.Optional(Type.String()),
            client_id: Type.Optional(Type.String()),
            client_secret: Type.Optional(Type.String()),
          }),
          response: {
            200: Type.Object({
              access_token: Type.String(),
              token_type: Type.Literal('Bearer'),
              expires_in: Type.Integer(),
            }),
            ...errorResponses(400, 401, 415),
          },
        },
      },
      async (request, reply) => {
        const body = request.body;
        if (body.grant_type !== 'client_credentials') throw new BeaconError('OAUTH_UNSUPPORTED_GRANT');
        let id = body.client_id;
        let clientSecret = body.client_secret;
        const basic = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
        if (basic) {
          const [u, p] = Buffer.from(basic, 'base64').toString().split(':');
          id = decodeURIComponent(u ?? '');
          clientSecret = decodeURIComponent(p ?? '');
        }
        if (!id || !clientSecret)
          throw new BeaconError('OAUTH_INVALID_CLIENT', 'client_id and client_secret are required');
        const { token, expiresIn } = await oauth.issue(id, clientSecret);
        return reply
          .header('cache-control', 'no-store')
          .send({ access_token: token, token_type: 'Bearer' as const, expires_in: expiresIn });
      },
    );
    done();
  });
}
