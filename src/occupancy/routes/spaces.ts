import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { v7 as uuidv7 } from 'uuid';
import { BeaconError } from '../../errors/catalog.ts';
import { requireContentType } from '../../http/auth.ts';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses } from '../../http/schemas.ts';
import type { OccupancyStore } from '../store/repositories.ts';
import { registerNamedRoutes } from './named.ts';
import { Id, Name, security, SpaceItem, spaceJson, tags } from './schemas.ts';

/** `/v1/spaces`: create, get, list, rename and delete the spaces people are counted in. */
export function registerSpaceRoutes(base: FastifyInstance, ctx: RouteContext<OccupancyStore>): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { store, scope } = ctx;
  app.post(
    '/v1/spaces',
    {
      onRequest: [scope('admin'), requireContentType('application/json')],
      schema: {
        tags,
        security,
        summary: 'Create a space',
        description:
          'A space may sit inside a parent (building › floor › room); counts roll up to every ancestor. The parent cannot change later.',
        body: Type.Object(
          {
            id: Type.Optional(Id('Your id for the space; a UUIDv7 when omitted.')),
            name: Name,
            parent: Type.Optional(Type.Union([Type.Null(), Type.String()])),
          },
          { additionalProperties: false },
        ),
        response: { 201: SpaceItem, ...errorResponses(400, 401, 403, 404, 409, 415, 429) },
      },
    },
    async (request, reply) => {
      const tenant = request.principal!.tenant;
      const space = {
        id: request.body.id ?? uuidv7(),
        name: request.body.name,
        parent: request.body.parent ?? null,
        createdAt: Date.now(),
      };
      await store.transaction(async (tx) => {
        if (space.parent !== null && !(await tx.occupancy.space(tenant, space.parent))) {
          throw new BeaconError('SPACE_NOT_FOUND', `no parent space ${space.parent}`);
        }
        if (!(await tx.occupancy.insertSpace(tenant, space))) {
          throw new BeaconError('ALREADY_EXISTS', `space ${space.id} already exists`);
        }
      });
      return reply.code(201).send(spaceJson(space));
    },
  );
  registerNamedRoutes(base, ctx, {
    kind: 'space',
    plural: 'spaces',
    item: SpaceItem,
    json: spaceJson,
    notFound: 'SPACE_NOT_FOUND',
    getSummary: 'Get a space',
    list: (query) => store.occupancy.spaces(query),
    get: (tx, tenant, id) => tx.space(tenant, id),
    inUse: async (tx, tenant, id) =>
      (await tx.referencesToSpace(tenant, id)) > 0 ? 'child spaces or doorways' : undefined,
    deleteDescription: 'Only a space no child space and no doorway refers to.',
  });
}
