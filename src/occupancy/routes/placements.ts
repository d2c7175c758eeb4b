import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { v7 as uuidv7 } from 'uuid';
import { BeaconError } from '../../errors/catalog.ts';
import { requireContentType } from '../../http/auth.ts';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses, IsoTime } from '../../http/schemas.ts';
import { page } from '../../wire/cursor.ts';
import { epochMs } from '../../wire/time.ts';
import type { Placement } from '../model.ts';
import { checkPlacement, recountFor } from '../placements.ts';
import type { OccupancyStore, OccupancyWriter } from '../store/repositories.ts';
import { pushCounts } from './push.ts';
import {
  afterId,
  Id,
  IdParams,
  ListQuery,
  pageOf,
  PlacementItem,
  placementJson,
  security,
  tags,
} from './schemas.ts';

/**
 * `/v1/placements`: which doorway a sensor watched, and when. Changing a placement recounts the
 * sensor's events over the affected time in the same transaction.
 */
export function registerPlacementRoutes(base: FastifyInstance, ctx: RouteContext<OccupancyStore>): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { store, scope } = ctx;
  const write = { onRequest: [scope('admin'), requireContentType('application/json')] };

  /** Runs a placement change and its recount in one transaction, then pushes the counts that moved. */
  async function changePlacement(tenant: string, change: (tx: OccupancyWriter) => Promise<Set<string>>) {
    await pushCounts(ctx, tenant, await store.transaction((tx) => change(tx.occupancy)));
  }

  app.post(
    '/v1/placements',
    {
      ...write,
      schema: {
        tags,
        security,
        summary: 'Place a sensor on a doorway',
        description:
          'Effective over [from, to). Placements of one sensor must not overlap (409). The sensor’s events in that time, including ones kept unplaced, are counted at once; history before and after is unchanged.',
        body: Type.Object(
          {
            id: Type.Optional(Id('Your id for the placement; a UUIDv7 when omitted.')),
            sensor: Type.String(),
            doorway: Type.String(),
            positive: Type.Union([Type.Literal('a'), Type.Literal('b')], {
              description: 'The side a +1 crossing enters.',
            }),
            from: IsoTime('Start (inclusive).'),
            to: Type.Optional(Type.Union([Type.Null(), IsoTime('End (exclusive).')])),
          },
          { additionalProperties: false },
        ),
        response: { 201: PlacementItem, ...errorResponses(400, 401, 403, 404, 409, 415, 429) },
      },
    },
    async (request, reply) => {
      const tenant = request.principal!.tenant;
      const body = request.body;
      const placement: Placement = {
        id: body.id ?? uuidv7(),
        sensor: body.sensor,
        doorway: body.doorway,
        positive: body.positive,
        from: epochMs(body.from),
        to: body.to == null ? null : epochMs(body.to),
        createdAt: Date.now(),
      };
      await changePlacement(tenant, async (tx) => {
        await checkPlacement(tx, tenant, placement);
        if (!(await tx.insertPlacement(tenant, placement))) {
          throw new BeaconError('ALREADY_EXISTS', `placement ${placement.id} already exists`);
        }
        return recountFor(tx, tenant, placement.sensor, [placement]);
      });
      return reply.code(201).send(placementJson(placement));
    },
  );
  app.get(
    '/v1/placements',
    {
      onRequest: scope('read'),
      schema: {
        tags,
        security,
        summary: 'List placements',
        querystring: Type.Object({
          ...ListQuery.properties,
          sensor: Type.Optional(Type.String({ description: 'Only this sensor’s placements.' })),
          doorway: Type.Optional(Type.String({ description: 'Only the placements on this doorway.' })),
        }),
        response: { 200: pageOf(PlacementItem), ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (request) => {
      const { limit, sensor, doorway } = request.query;
      const rows = await store.occupancy.placements({
        tenant: request.principal!.tenant,
        limit: limit + 1,
        after: afterId(request.query.after),
        sensor,
        doorway,
      });
      return page(rows, limit, (p) => [p.id], placementJson);
    },
  );
  app.get(
    '/v1/placements/:id',
    {
      onRequest: scope('read'),
      schema: {
        tags,
        security,
        summary: 'Get a placement',
        params: IdParams,
        response: { 200: PlacementItem, ...errorResponses(401, 403, 404, 429) },
      },
    },
    async (request) => {
      const p = await store.occupancy.placement(request.principal!.tenant, request.params.id);
      if (!p) throw new BeaconError('PLACEMENT_NOT_FOUND', `no placement ${request.params.id}`);
      return placementJson(p);
    },
  );
  app.patch(
    '/v1/placements/:id',
    {
      ...write,
      schema: {
        tags,
        security,
        summary: 'Change a placement (end it when the sensor moves)',
        description:
          'Setting `to` ends the placement; a new placement can then start at that time. Events over the old and new intervals are counted again.',
        params: IdParams,
        body: Type.Object(
          {
            doorway: Type.Optional(Type.String()),
            positive: Type.Optional(Type.Union([Type.Literal('a'), Type.Literal('b')])),
            from: Type.Optional(IsoTime('Start (inclusive).')),
            to: Type.Optional(Type.Union([Type.Null(), IsoTime('End (exclusive).')])),
          },
          { additionalProperties: false },
        ),
        response: { 200: PlacementItem, ...errorResponses(400, 401, 403, 404, 409, 415, 429) },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const body = request.body;
      let updated: Placement | undefined;
      await changePlacement(tenant, async (tx) => {
        const old = await tx.placement(tenant, request.params.id);
        if (!old) throw new BeaconError('PLACEMENT_NOT_FOUND', `no placement ${request.params.id}`);
        updated = {
          ...old,
          doorway: body.doorway ?? old.doorway,
          positive: body.positive ?? old.positive,
          from: body.from === undefined ? old.from : epochMs(body.from),
          to: body.to === undefined ? old.to : body.to === null ? null : epochMs(body.to),
        };
        await checkPlacement(tx, tenant, updated);
        await tx.updatePlacement(tenant, updated);
        return recountFor(tx, tenant, old.sensor, [old, updated]);
      });
      return placementJson(updated!);
    },
  );
  app.delete(
    '/v1/placements/:id',
    {
      onRequest: scope('admin'),
      schema: {
        tags,
        security,
        summary: 'Delete a placement',
        description: 'The sensor’s events over its interval become unplaced: kept, reported, not counted.',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const tenant = request.principal!.tenant;
      await changePlacement(tenant, async (tx) => {
        const old = await tx.placement(tenant, request.params.id);
        if (!old) throw new BeaconError('PLACEMENT_NOT_FOUND', `no placement ${request.params.id}`);
        await tx.deletePlacement(tenant, old.id);
        return recountFor(tx, tenant, old.sensor, [old]);
      });
      return reply.code(204).send(null);
    },
  );
}
