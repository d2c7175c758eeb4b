import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { BeaconError } from '../../errors/catalog.ts';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses, IsoTime } from '../../http/schemas.ts';
import { page } from '../../wire/cursor.ts';
import { isoTime, isoTimeOrNull } from '../../wire/time.ts';
import { doorwayDays, localDays, sensorHealth, type DoorwayDay, type SensorHealth } from '../health.ts';
import type { Doorway } from '../model.ts';
import { healthRules } from '../settings.ts';
import type { OccupancyReader, OccupancyStore } from '../store/repositories.ts';
import { afterId, IdParams, ListQuery, pageOf, security, tags } from './schemas.ts';

const SensorHealthItem = Type.Object(
  {
    sensor: Type.String(),
    name: Type.String(),
    status: Type.Union([Type.Literal('ok'), Type.Literal('silent'), Type.Literal('unplaced')], {
      description:
        'silent: no event for occupancy.silentAfterMinutes of the watched space’s open time; unplaced: no placement now.',
    }),
    placement: Type.Union([Type.String(), Type.Null()], { description: 'The placement in force now.' }),
    doorway: Type.Union([Type.String(), Type.Null()]),
    space: Type.Union([Type.String(), Type.Null()], {
      description: 'The doorway’s side a, whose open hours count.',
    }),
    lastEventAt: Type.Union([IsoTime('Time of its latest event.'), Type.Null()]),
    lastReceivedAt: Type.Union([IsoTime('When Beacon last received one of its events.'), Type.Null()]),
    silentForMs: Type.Union([Type.Integer(), Type.Null()], {
      description:
        'Open time since its last event (or since its placement began), counted up to twice the threshold.',
    }),
  },
  { $id: 'SensorHealth' },
);
const DoorwayDayItem = Type.Object({
  day: Type.String({ description: 'Local date (occupancy.timeZone), YYYY-MM-DD.' }),
  in: Type.Integer({ description: 'People who crossed onto side a.' }),
  out: Type.Integer({ description: 'People who crossed off side a.' }),
  complete: Type.Boolean({ description: 'False for today, still running.' }),
  flagged: Type.Boolean({
    description: 'The imbalance is beyond occupancy.driftRatio and occupancy.driftMinImbalance.',
  }),
});
const DoorwayDriftItem = Type.Object(
  {
    doorway: Type.String(),
    name: Type.String(),
    a: Type.String(),
    b: Type.Union([Type.String(), Type.Null()]),
    days: Type.Array(DoorwayDayItem),
  },
  { $id: 'DoorwayDrift' },
);
/** Local days of drift when the request does not say. */
const DEFAULT_DAYS = 7;
const Days = Type.Integer({
  minimum: 1,
  maximum: 31,
  default: DEFAULT_DAYS,
  description: 'Local days back, today included.',
});

const healthJson = (h: SensorHealth) => ({
  sensor: h.sensor.id,
  name: h.sensor.name,
  status: h.status,
  placement: h.placement?.id ?? null,
  doorway: h.doorway?.id ?? null,
  space: h.space,
  lastEventAt: isoTimeOrNull(h.lastEventAt),
  lastReceivedAt: isoTimeOrNull(h.lastReceivedAt),
  silentForMs: h.silentForMs,
});
const dayJson = (d: DoorwayDay) => ({
  day: d.day,
  in: d.in,
  out: d.out,
  complete: d.complete,
  flagged: d.flagged,
});

/**
 * Sensor health: each sensor's last event and whether it is silent (`/v1/sensor-health`); each
 * doorway's daily people in and out, and whether they drift apart (`/v1/doorway-drift`); and both for
 * the doorways of one space (`/v1/spaces/:id/health`).
 */
export function registerHealthRoutes(base: FastifyInstance, ctx: RouteContext<OccupancyStore>): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { store, scope, config } = ctx;
  const rules = healthRules(config);

  /** The drift of doorways over `count` local days, from the placements on them. */
  async function drift(reader: OccupancyReader, tenant: string, doorways: readonly Doorway[], count: number) {
    const now = Date.now();
    const days = localDays(rules.timeZone, now, count);
    const placements = await reader.placementsOn(
      tenant,
      doorways.map((d) => d.id),
    );
    const out = [];
    for (const d of doorways) {
      out.push({
        doorway: d.id,
        name: d.name,
        a: d.a,
        b: d.b,
        days: (await doorwayDays(reader, tenant, d.id, placements, days, now, rules)).map(dayJson),
      });
    }
    return out;
  }

  app.get(
    '/v1/sensor-health',
    {
      onRequest: scope('read'),
      schema: {
        tags,
        security,
        summary: 'Health of every sensor: last event, and silent ones',
        description: 'In sensor id order, paged by cursor.',
        querystring: ListQuery,
        response: { 200: pageOf(SensorHealthItem), ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const { limit } = request.query;
      const sensors = await store.occupancy.sensors({
        tenant,
        limit: limit + 1,
        after: afterId(request.query.after),
      });
      const { items, next } = page(
        sensors,
        limit,
        (s) => [s.id],
        (s) => s,
      );
      return {
        items: (await sensorHealth(store.occupancy, tenant, items, Date.now(), rules)).map(healthJson),
        next,
      };
    },
  );

  app.get(
    '/v1/doorway-drift',
    {
      onRequest: scope('read'),
      schema: {
        tags,
        security,
        summary: 'People in and out of every doorway per day, and where they drift apart',
        description:
          'A doorway whose in and out differ on a day beyond the thresholds has a sensor that misses crossings: a headcount (correction) of the space sets its count right. In doorway id order, paged by cursor (at most 100 a page).',
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
          after: ListQuery.properties.after,
          days: Type.Optional(Days),
        }),
        response: { 200: pageOf(DoorwayDriftItem), ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const { limit, days } = request.query;
      const doorways = await store.occupancy.doorways({
        tenant,
        limit: limit + 1,
        after: afterId(request.query.after),
      });
      const { items, next } = page(
        doorways,
        limit,
        (d) => [d.id],
        (d) => d,
      );
      return { items: await drift(store.occupancy, tenant, items, days ?? DEFAULT_DAYS), next };
    },
  );

  app.get(
    '/v1/spaces/:id/health',
    {
      onRequest: scope('read'),
      schema: {
        tags,
        security,
        summary: 'Health of a space’s doorways and the sensors on them',
        description:
          'The doorways with the space on either side (at most 100), with their sensors placed now and their daily drift.',
        params: IdParams,
        querystring: Type.Object({ days: Type.Optional(Days) }),
        response: {
          200: Type.Object({
            space: Type.String(),
            asOf: IsoTime('When it was judged.'),
            sensors: Type.Array(SensorHealthItem),
            doorways: Type.Array(DoorwayDriftItem),
          }),
          ...errorResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const { id } = request.params;
      if (!(await store.occupancy.space(tenant, id)))
        throw new BeaconError('SPACE_NOT_FOUND', `no space ${id}`);
      const now = Date.now();
      const doorways = await store.occupancy.doorways({ tenant, limit: 100, space: id });
      const placements = await store.occupancy.placementsOn(
        tenant,
        doorways.map((d) => d.id),
      );
      const sensorIds = [
        ...new Set(
          placements.filter((p) => p.from <= now && (p.to === null || now < p.to)).map((p) => p.sensor),
        ),
      ];
      const sensors = (await Promise.all(sensorIds.map((s) => store.occupancy.sensor(tenant, s)))).filter(
        (s) => s !== undefined,
      );
      return {
        space: id,
        asOf: isoTime(now),
        sensors: (await sensorHealth(store.occupancy, tenant, sensors, now, rules)).map(healthJson),
        doorways: await drift(store.occupancy, tenant, doorways, request.query.days ?? DEFAULT_DAYS),
      };
    },
  );
}
