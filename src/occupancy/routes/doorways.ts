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
import { DoorwayItem, doorwayJson, Id, Name, security, tags } from './schemas.ts';

/** `/v1/doorways`: create, get, list, rename and delete the passages between spaces. */
export function registerDoorwayRoutes(base: FastifyInstance, ctx: RouteContext<OccupancyStore>): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { store, scope } = ctx;
  app.post(
    '/v1/doorways',
    {
      onRequest: [scope('admin'), requireContentType('application/json')],
      schema: {
        tags,
        security,
        summary: 'Create a doorway',
        description: 'A doorway joins space `a` to space `b`, or to the outside when `b` is null.',
        body: Type.Object(
          {
            id: Type.Optional(Id('Your id for the doorway; a UUIDv7 when omitted.')),
            name: Name,
            a: Type.String({ description: 'Space on side a.' }),
            b: Type.Union([Type.Null(), Type.String()], {
              description: 'Space on side b; null is the outside.',
            }),
          },
          { additionalProperties: false },
        ),
        response: { 201: DoorwayItem, ...errorResponses(400, 401, 403, 404, 409, 415, 429) },
      },
    },
    async (request, reply) => {
      const tenant = request.principal!.tenant;
      const { a, b } = request.body;
      if (a === b) throw new BeaconError('VALIDATION_FAILED', 'a doorway joins two different spaces');
      const doorway = {
        id: request.body.id ?? uuidv7(),
        name: request.body.name,
        a,
        b,
        createdAt: Date.now(),
      };
      await store.transaction(async (tx) => {
        for (const side of [a, b]) {
          if (side !== null && !(await tx.occupancy.space(tenant, side))) {
            throw new BeaconError('SPACE_NOT_FOUND', `no space ${side}`);
          }
        }
        if (!(await tx.occupancy.insertDoorway(tenant, doorway))) {
          throw new BeaconError('ALREADY_EXISTS', `doorway ${doorway.id} already exists`);
        }
      });
      return reply.code(201).send(doorwayJson(doorway));
    },
  );
  registerNamedRoutes(base, ctx, {
    kind: 'doorway',
    plural: 'doorways',
    item: DoorwayItem,
    json: doorwayJson,
    notFound: 'DOORWAY_NOT_FOUND',
    getSummary: 'Get a doorway',
    list: (query) => store.occupancy.doorways({ ...query, space: query.filters.space }),
    filters: { space: 'Only the doorways with this space on either side.' },
    get: (tx, tenant, id) => tx.doorway(tenant, id),
    inUse: async (tx, tenant, id) =>
      (await tx.placementsOnDoorway(tenant, id)) > 0 ? 'placements' : undefined,
    deleteDescription: 'Only a doorway no placement refers to.',
  });
}
