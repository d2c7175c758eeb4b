import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type, { type TSchema } from 'typebox';
import { v7 as uuidv7 } from 'uuid';
import { BeaconError, type ErrorCode } from '../errors/catalog.ts';
import { requireContentType } from '../http/auth.ts';
import type { RouteContext } from '../http/context.ts';
import type { Named, OccupancyStore, OccupancyWriter } from './store/repositories.ts';
import { decodeCursor, encodeCursor } from '../wire/cursor.ts';
import { errorResponses, IsoTime } from '../http/schemas.ts';
import type { Placement } from './model.ts';
import { checkPlacement, recountFor } from './placements.ts';
import { countFrames } from './projection.ts';
import {
  DoorwayItem,
  doorwayJson,
  Id,
  IdParams,
  ListQuery,
  Name,
  pageOf,
  PlacementItem,
  placementJson,
  RenameBody,
  SensorItem,
  sensorJson,
  SpaceItem,
  spaceJson,
} from './schemas.ts';
import { countSettings } from './settings.ts';

const after = (cursor: string | undefined) =>
  cursor === undefined ? undefined : decodeCursor(cursor, ['string'] as const)[0];

/** One page plus the cursor to the next: the caller asked for limit + 1 rows. */
function page<T extends { id: string }, J>(rows: T[], limit: number, json: (row: T) => J) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items: items.map(json), next: rows.length > limit && last ? encodeCursor([last.id]) : null };
}

/**
 * CRUD for the occupancy model: `/v1/spaces`, `/v1/doorways`, `/v1/sensors` and `/v1/placements`.
 * Changing a placement recounts the sensor's events over the affected time in the same transaction.
 */
export function registerModelRoutes(base: FastifyInstance, ctx: RouteContext<OccupancyStore>): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { store, scope, hub } = ctx;
  const settings = countSettings(ctx.config);
  const write = { onRequest: [scope('admin'), requireContentType('application/json')] };
  const tags = ['occupancy'];
  const security = [{ bearer: [] }];

  // Spaces
  app.post(
    '/v1/spaces',
    {
      ...write,
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
  app.get(
    '/v1/spaces/:id',
    {
      onRequest: scope('read'),
      schema: {
        tags,
        security,
        summary: 'Get a space',
        params: IdParams,
        response: { 200: SpaceItem, ...errorResponses(401, 403, 404, 429) },
      },
    },
    async (request) => {
      const space = await store.occupancy.space(request.principal!.tenant, request.params.id);
      if (!space) throw new BeaconError('SPACE_NOT_FOUND', `no space ${request.params.id}`);
      return spaceJson(space);
    },
  );

  // Doorways
  app.post(
    '/v1/doorways',
    {
      ...write,
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
  app.get(
    '/v1/doorways/:id',
    {
      onRequest: scope('read'),
      schema: {
        tags,
        security,
        summary: 'Get a doorway',
        params: IdParams,
        response: { 200: DoorwayItem, ...errorResponses(401, 403, 404, 429) },
      },
    },
    async (request) => {
      const doorway = await store.occupancy.doorway(request.principal!.tenant, request.params.id);
      if (!doorway) throw new BeaconError('DOORWAY_NOT_FOUND', `no doorway ${request.params.id}`);
      return doorwayJson(doorway);
    },
  );

  // Sensors
  app.post(
    '/v1/sensors',
    {
      ...write,
      schema: {
        tags,
        security,
        summary: 'Register a sensor',
        description: 'The id is what the sensor sends in every event (its serial, say).',
        body: Type.Object(
          { id: Type.Optional(Id('The sensor’s own id; a UUIDv7 when omitted.')), name: Name },
          { additionalProperties: false },
        ),
        response: { 201: SensorItem, ...errorResponses(400, 401, 403, 409, 415, 429) },
      },
    },
    async (request, reply) => {
      const tenant = request.principal!.tenant;
      const sensor = { id: request.body.id ?? uuidv7(), name: request.body.name, createdAt: Date.now() };
      await store.transaction(async (tx) => {
        if (!(await tx.occupancy.insertSensor(tenant, sensor))) {
          throw new BeaconError('ALREADY_EXISTS', `sensor ${sensor.id} already exists`);
        }
      });
      return reply.code(201).send(sensorJson(sensor));
    },
  );
  app.get(
    '/v1/sensors/:id',
    {
      onRequest: scope('read'),
      schema: {
        tags,
        security,
        summary: 'Get a sensor, with how many of its events are not counted',
        params: IdParams,
        response: { 200: SensorItem, ...errorResponses(401, 403, 404, 429) },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const sensor = await store.occupancy.sensor(tenant, request.params.id);
      if (!sensor) throw new BeaconError('SENSOR_NOT_FOUND', `no sensor ${request.params.id}`);
      return {
        ...sensorJson(sensor),
        unplacedEvents: await store.occupancy.unplacedCount(tenant, sensor.id),
      };
    },
  );

  /**
   * List, rename and delete: the same three routes for spaces, doorways and sensors. A delete is
   * refused (409 IN_USE) while `inUse` names what still refers to the entity.
   */
  function namedEntityRoutes<T extends { id: string }>(spec: {
    readonly path: string;
    readonly noun: Named;
    readonly plural: string;
    readonly item: TSchema;
    readonly json: (row: T) => unknown;
    readonly notFound: ErrorCode;
    readonly list: (query: { tenant: string; limit: number; after: string | undefined }) => Promise<T[]>;
    readonly get: (tx: OccupancyWriter, tenant: string, id: string) => Promise<T | undefined>;
    readonly inUse: (tx: OccupancyWriter, tenant: string, id: string) => Promise<string | undefined>;
    readonly deleteDescription: string;
  }): void {
    const { noun } = spec;
    app.get(
      spec.path,
      {
        onRequest: scope('read'),
        schema: {
          tags,
          security,
          summary: `List ${spec.plural}`,
          description: 'In id order, paged by cursor.',
          querystring: ListQuery,
          response: { 200: pageOf(spec.item), ...errorResponses(400, 401, 403, 429) },
        },
      },
      async (request) => {
        const { limit } = request.query;
        const rows = await spec.list({
          tenant: request.principal!.tenant,
          limit: limit + 1,
          after: after(request.query.after),
        });
        return page(rows, limit, spec.json);
      },
    );
    app.patch(
      `${spec.path}/:id`,
      {
        ...write,
        schema: {
          tags,
          security,
          summary: `Rename a ${noun}`,
          params: IdParams,
          body: RenameBody,
          response: { 200: spec.item, ...errorResponses(400, 401, 403, 404, 415, 429) },
        },
      },
      async (request) => {
        const tenant = request.principal!.tenant;
        const { id } = request.params;
        const row = await store.transaction(async (tx) => {
          if (!(await tx.occupancy.rename(noun, tenant, id, request.body.name))) {
            throw new BeaconError(spec.notFound, `no ${noun} ${id}`);
          }
          return (await spec.get(tx.occupancy, tenant, id))!;
        });
        return spec.json(row);
      },
    );
    app.delete(
      `${spec.path}/:id`,
      {
        onRequest: scope('admin'),
        schema: {
          tags,
          security,
          summary: `Delete a ${noun}`,
          description: spec.deleteDescription,
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 409, 429) },
        },
      },
      async (request, reply) => {
        const tenant = request.principal!.tenant;
        const { id } = request.params;
        await store.transaction(async (tx) => {
          if (!(await spec.get(tx.occupancy, tenant, id)))
            throw new BeaconError(spec.notFound, `no ${noun} ${id}`);
          const reason = await spec.inUse(tx.occupancy, tenant, id);
          if (reason !== undefined) throw new BeaconError('IN_USE', `${noun} ${id} still has ${reason}`);
          await tx.occupancy.delete(noun, tenant, id);
        });
        return reply.code(204).send(null);
      },
    );
  }

  namedEntityRoutes({
    path: '/v1/spaces',
    noun: 'space',
    plural: 'spaces',
    item: SpaceItem,
    json: spaceJson,
    notFound: 'SPACE_NOT_FOUND',
    list: (query) => store.occupancy.spaces(query),
    get: (tx, tenant, id) => tx.space(tenant, id),
    inUse: async (tx, tenant, id) =>
      (await tx.referencesToSpace(tenant, id)) > 0 ? 'child spaces or doorways' : undefined,
    deleteDescription: 'Only a space no child space and no doorway refers to.',
  });
  namedEntityRoutes({
    path: '/v1/doorways',
    noun: 'doorway',
    plural: 'doorways',
    item: DoorwayItem,
    json: doorwayJson,
    notFound: 'DOORWAY_NOT_FOUND',
    list: (query) => store.occupancy.doorways(query),
    get: (tx, tenant, id) => tx.doorway(tenant, id),
    inUse: async (tx, tenant, id) =>
      (await tx.placementsOnDoorway(tenant, id)) > 0 ? 'placements' : undefined,
    deleteDescription: 'Only a doorway no placement refers to.',
  });
  namedEntityRoutes({
    path: '/v1/sensors',
    noun: 'sensor',
    plural: 'sensors',
    item: SensorItem,
    json: sensorJson,
    notFound: 'SENSOR_NOT_FOUND',
    list: (query) => store.occupancy.sensors(query),
    get: (tx, tenant, id) => tx.sensor(tenant, id),
    inUse: async (tx, tenant, id) =>
      (await tx.placementsOf(tenant, [id])).length > 0 ? 'placements' : undefined,
    deleteDescription: 'Only a sensor without placements. Its events stay in the log.',
  });

  // Placements
  /** Runs a placement change and its recount in one transaction, then pushes the counts that moved. */
  async function changePlacement(tenant: string, change: (tx: OccupancyWriter) => Promise<Set<string>>) {
    const touched = await store.transaction((tx) => change(tx.occupancy));
    if (touched.size > 0 && hub.size > 0)
      hub.publishDerived(await countFrames(store, tenant, touched, settings));
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
        from: Date.parse(body.from),
        to: body.to == null ? null : Date.parse(body.to),
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
        }),
        response: { 200: pageOf(PlacementItem), ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (request) => {
      const { limit, sensor } = request.query;
      const rows = await store.occupancy.placements({
        tenant: request.principal!.tenant,
        limit: limit + 1,
        after: after(request.query.after),
        sensor,
      });
      return page(rows, limit, placementJson);
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
          from: body.from === undefined ? old.from : Date.parse(body.from),
          to: body.to === undefined ? old.to : body.to === null ? null : Date.parse(body.to),
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
