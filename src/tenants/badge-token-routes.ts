import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { BeaconError } from '../errors/catalog.ts';
import type { RouteContext } from '../http/context.ts';
import { errorResponses, IsoTime } from '../http/schemas.ts';
import type { Store } from '../store/store.ts';
import { isoTime } from '../wire/time.ts';
import { rotateBadgeToken } from './badge-tokens.ts';
import type { TenantRepositories } from './store/repositories.ts';

/**
 * `/v1/badge-token`: the tenant's one badge token, which opens the badge SVGs of its targets
 * (`/badge/{target}/{kind}.svg?token=…`) and nothing else, so it may be pasted into a public README.
 */
export function registerBadgeTokenRoutes(
  base: FastifyInstance,
  ctx: RouteContext<Store & TenantRepositories>,
): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { store, scope } = ctx;
  const tags = ['tenants'];
  const security = [{ bearer: [] }];

  app.post(
    '/v1/badge-token',
    {
      onRequest: scope('admin'),
      schema: {
        tags,
        security,
        summary: 'Create or rotate the badge token',
        description:
          'A new read-only badge token for the tenant, replacing any it had (badge URLs with the old one answer 404 from now on). The secret is in the answer once and never again (only its hash is kept).',
        response: {
          201: Type.Object({
            token: Type.String({ description: 'The badge secret: shown once.' }),
            createdAt: IsoTime('When it was made.'),
          }),
          ...errorResponses(401, 403, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const tenant = request.principal!.tenant;
      const at = Date.now();
      const token = await rotateBadgeToken(store.badgeTokens, tenant, at);
      ctx.logger.info({ tenant, by: request.principal!.tokenId }, 'badge token rotated');
      return reply.code(201).send({ token, createdAt: isoTime(at) });
    },
  );

  app.get(
    '/v1/badge-token',
    {
      onRequest: scope('read'),
      schema: {
        tags,
        security,
        summary: 'Whether the tenant has a badge token',
        description: 'When it was made; its secret is never shown again. 404 when the tenant has none.',
        response: {
          200: Type.Object({ createdAt: IsoTime('When it was made.') }),
          ...errorResponses(401, 403, 404, 429, 503),
        },
      },
    },
    async (request) => {
      const createdAt = await store.badgeTokens.createdAt(request.principal!.tenant);
      if (createdAt === undefined) throw new BeaconError('NOT_FOUND', 'the tenant has no badge token');
      return { createdAt: isoTime(createdAt) };
    },
  );

  app.delete(
    '/v1/badge-token',
    {
      onRequest: scope('admin'),
      schema: {
        tags,
        security,
        summary: 'Revoke the badge token',
        description: 'Every badge URL with it answers 404 from now on.',
        response: {
          204: Type.Null(),
          ...errorResponses(401, 403, 404, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const tenant = request.principal!.tenant;
      if (!(await store.badgeTokens.delete(tenant))) {
        throw new BeaconError('NOT_FOUND', 'the tenant has no badge token');
      }
      ctx.logger.info({ tenant, by: request.principal!.tokenId }, 'badge token revoked');
      return reply.code(204).send(null);
    },
  );
}
