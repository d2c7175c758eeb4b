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
import { Id, Name, security, SensorItem, sensorJson, tags } from './schemas.ts';

/** `/v1/sensors`: register, get, list, rename and delete people-counting sensors. */
export function registerSensorRoutes(base: FastifyInstance, ctx: RouteContext<OccupancyStore>): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { store, scope } = ctx;
  app.post(
    '/v1/sensors',
    {
      onRequest: [scope('admin'), requireContentType('application/json')],
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
  registerNamedRoutes(base, ctx, {
    kind: 'sensor',
    plural: 'sensors',
    item: SensorItem,
    json: sensorJson,
    notFound: 'SENSOR_NOT_FOUND',
    getSummary: 'Get a sensor, with how many of its events are not counted',
    list: (query) => store.occupancy.sensors(query),
    get: (tx, tenant, id) => tx.sensor(tenant, id),
    detail: async (tenant, sensor) => ({
      unplacedEvents: await store.occupancy.unplacedCount(tenant, sensor.id),
    }),
    inUse: async (tx, tenant, id) =>
      (await tx.placementsOf(tenant, [id])).length > 0 ? 'placements' : undefined,
    deleteDescription: 'Only a sensor without placements. Its events stay in the log.',
  });
}
