import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { BeaconError } from '../../errors/catalog.ts';
import { requireContentType } from '../../http/auth.ts';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses, IsoTime } from '../../http/schemas.ts';
import { decodeCursor, page } from '../../wire/cursor.ts';
import { epochMs, isoTime } from '../../wire/time.ts';
import { placementAt } from '../counter.ts';
import type { Placement } from '../model.ts';
import type { SensorEventBody } from '../projection.ts';
import type { OccupancyStore } from '../store/repositories.ts';
import { ListQuery, security, tags } from './schemas.ts';

const SensorEventInput = Type.Object(
  {
    sensor: Type.String({ minLength: 1, maxLength: 64, description: 'The registered sensor’s id.' }),
    ts: IsoTime('When the crossing happened.'),
    direction: Type.Union([Type.Literal(1), Type.Literal(-1)], {
      description: '+1 or -1 in the sensor’s own direction.',
    }),
    id: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, description: 'The sensor’s own event id, if it has one.' }),
    ),
    sequence: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          'Without an id, tells apart crossings with the same sensor, ts and direction (default 0).',
      }),
    ),
  },
  { additionalProperties: false },
);

/**
 * `POST /v1/sensor-events`, where sensors' crossings enter the log, and the events kept but not
 * counted (`GET /v1/sensor-events/unplaced`).
 */
export function registerSensorEventRoutes(base: FastifyInstance, ctx: RouteContext<OccupancyStore>): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { config, ingest, store, scope } = ctx;

  app.post(
    '/v1/sensor-events',
    {
      onRequest: [scope('ingest'), requireContentType('application/json')],
      bodyLimit: config.ingest.maxBatchBytes,
      schema: {
        tags,
        security,
        summary: 'Accept a batch of sensor crossings',
        description: `Up to ${config.ingest.maxBatchItems} events; all are stored or none are. Idempotent: an event is the same event when its sensor and id match, or without an id when sensor, ts, direction and sequence match. Events may arrive late and out of order; they correct every count after their time. Events no placement covers are kept and counted once one does.`,
        body: Type.Array(SensorEventInput),
        response: {
          202: Type.Object({
            accepted: Type.Integer({ description: 'Events newly stored.' }),
            duplicates: Type.Integer({ description: 'Events already stored before.' }),
            unplaced: Type.Integer({
              description:
                'Events no placement covers now: kept, listed at /v1/sensor-events/unplaced, not counted.',
            }),
            items: Type.Array(
              Type.Object({
                id: Type.String(),
                receivedAt: IsoTime('When first accepted.'),
                duplicate: Type.Boolean(),
              }),
            ),
          }),
          ...errorResponses(400, 401, 403, 404, 413, 415, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const events = request.body;
      if (events.length === 0) throw new BeaconError('BATCH_EMPTY');
      if (events.length > config.ingest.maxBatchItems) {
        throw new BeaconError(
          'BATCH_TOO_LARGE',
          `a batch holds at most ${config.ingest.maxBatchItems} events`,
        );
      }
      const tenant = request.principal!.tenant;
      const sensors = [...new Set(events.map((e) => e.sensor))];
      const known = await store.occupancy.knownSensors(tenant, sensors);
      const unknown = sensors.filter((s) => !known.has(s));
      if (unknown.length > 0) {
        throw new BeaconError('SENSOR_NOT_FOUND', `unknown sensor ${unknown.slice(0, 5).join(', ')}`);
      }
      const placements = new Map<string, Placement[]>();
      for (const p of await store.occupancy.placementsOf(tenant, sensors)) {
        placements.set(p.sensor, [...(placements.get(p.sensor) ?? []), p]);
      }
      let unplaced = 0;
      const signals = events.map((e) => {
        const ts = epochMs(e.ts);
        if (!placementAt(placements.get(e.sensor) ?? [], ts)) unplaced += 1;
        const body: SensorEventBody = {
          sensor: e.sensor,
          direction: e.direction,
          ...(e.id === undefined ? {} : { id: e.id }),
          ...(e.sequence === undefined ? {} : { sequence: e.sequence }),
        };
        // Time first: keys of events arriving in time order land at the end of every index on them,
        // instead of scattering one page write per sensor across each index on every commit.
        const key =
          e.id === undefined
            ? `seq:${String(ts).padStart(15, '0')}:${e.sensor}:${e.direction}:${e.sequence ?? 0}`
            : `id:${e.sensor}:${e.id}`;
        return { tenant, entity: e.sensor, key, ts, body };
      });
      const appended = await ingest.accept('sensor-events', signals);
      const duplicates = appended.filter((a) => a.duplicate).length;
      return reply.code(202).send({
        accepted: appended.length - duplicates,
        duplicates,
        unplaced,
        items: appended.map((a) => ({ id: a.id, receivedAt: isoTime(a.receivedAt), duplicate: a.duplicate })),
      });
    },
  );

  app.get(
    '/v1/sensor-events/unplaced',
    {
      onRequest: scope('read'),
      schema: {
        tags,
        security,
        summary: 'Events kept but not counted',
        description:
          'Events no placement covers, in time order. They count as soon as a placement covers them.',
        querystring: Type.Object({
          ...ListQuery.properties,
          sensor: Type.Optional(Type.String()),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                key: Type.String({ description: 'The idempotency key the event is stored under.' }),
                sensor: Type.String(),
                ts: IsoTime('When the crossing happened.'),
                direction: Type.Integer(),
                receivedAt: IsoTime('When Beacon accepted it.'),
              }),
            ),
            next: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errorResponses(400, 401, 403, 429),
        },
      },
    },
    async (request) => {
      const { limit, sensor, after } = request.query;
      const cursor = after === undefined ? undefined : decodeCursor(after, ['number', 'string']);
      const rows = await store.occupancy.unplaced({
        tenant: request.principal!.tenant,
        limit: limit + 1,
        sensor,
        after: cursor && { ts: cursor[0], key: cursor[1] },
      });
      return page(
        rows,
        limit,
        (e) => [e.ts, e.key],
        (e) => ({
          key: e.key,
          sensor: e.sensor,
          ts: isoTime(e.ts),
          direction: e.direction,
          receivedAt: isoTime(e.receivedAt),
        }),
      );
    },
  );
}
