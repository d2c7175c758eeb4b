import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { BeaconError } from '../errors/catalog.ts';
import { requireContentType } from '../http/auth.ts';
import type { RouteContext } from '../http/context.ts';
import type { OccupancyStore } from './store/repositories.ts';
import { decodeCursor, encodeCursor } from '../wire/cursor.ts';
import { errorResponses, IsoTime } from '../http/schemas.ts';
import { countBefore, MAX_BUCKETS, series } from './figures.ts';
import { placementAt } from './counter.ts';
import type { Placement } from './model.ts';
import { registerModelRoutes } from './model-routes.ts';
import { liveCount, type SensorEventBody } from './projection.ts';
import { IdParams, ListQuery } from './schemas.ts';
import { MINUTE_MS } from './segment.ts';
import { countSettings } from './settings.ts';

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

const Tally = {
  count: Type.Integer({ description: 'Corrected: never negative, reset daily (per configuration).' }),
  raw: Type.Integer({ description: 'Raw sum of every counted crossing, without corrections.' }),
};

const CountAnswer = Type.Object({
  space: Type.String(),
  ...Tally,
  asOf: IsoTime('The instant the figures are for.'),
  provisional: Type.Boolean({
    description: 'True while late events (within occupancy.provisionalWindowMs) may still change it.',
  }),
});

const TallyObject = Type.Object(Tally);
const BucketItem = Type.Object({
  start: IsoTime('Bucket start (inclusive).'),
  end: IsoTime('Bucket end (exclusive).'),
  startCount: TallyObject,
  endCount: TallyObject,
  peak: TallyObject,
  entries: Type.Integer(),
  exits: Type.Integer(),
  lateEvents: Type.Integer({ description: 'Late events in the bucket: where history was corrected.' }),
  provisional: Type.Boolean(),
});

const INTERVAL = /^([1-9][0-9]*)(m|h|d)$/;
const UNIT_MS = { m: MINUTE_MS, h: 60 * MINUTE_MS, d: 24 * 60 * MINUTE_MS } as const;

function parseInterval(text: string): number {
  const match = INTERVAL.exec(text)!;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

const iso = (t: number) => new Date(t).toISOString();

/** The occupancy API: the model, `POST /v1/sensor-events`, and the count queries. */
export function registerOccupancyRoutes(base: FastifyInstance, ctx: RouteContext<OccupancyStore>): void {
  registerModelRoutes(base, ctx);
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { config, ingest, store, scope } = ctx;
  const settings = countSettings(config);
  const tags = ['occupancy'];
  const security = [{ bearer: [] }];

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
        const ts = Date.parse(e.ts);
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
        items: appended.map((a) => ({ id: a.id, receivedAt: iso(a.receivedAt), duplicate: a.duplicate })),
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
      const cursor = after === undefined ? undefined : decodeCursor(after, ['number', 'string'] as const);
      const rows = await store.occupancy.unplaced({
        tenant: request.principal!.tenant,
        limit: limit + 1,
        sensor,
        after: cursor && { ts: cursor[0], key: cursor[1] },
      });
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      return {
        items: items.map((e) => ({
          key: e.key,
          sensor: e.sensor,
          ts: iso(e.ts),
          direction: e.direction,
          receivedAt: iso(e.receivedAt),
        })),
        next: rows.length > limit && last ? encodeCursor([last.ts, last.key]) : null,
      };
    },
  );

  async function requireSpace(tenant: string, id: string): Promise<void> {
    if (!(await store.occupancy.space(tenant, id)))
      throw new BeaconError('SPACE_NOT_FOUND', `no space ${id}`);
  }

  app.get(
    '/v1/spaces/:id/count',
    {
      onRequest: scope('read'),
      schema: {
        tags,
        security,
        summary: 'Count of people in a space, now or at a time',
        description:
          'Without `at`: the real-time count, also pushed on /v1/stream (streams=sensor-events, entity=space id) as `{type:"count"}` frames. With `at`: the exact count at that instant given every event received so far. Counts include every space inside this one.',
        params: IdParams,
        querystring: Type.Object({ at: Type.Optional(IsoTime('The instant to count at.')) }),
        response: { 200: CountAnswer, ...errorResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const { id } = request.params;
      const now = Date.now();
      if (request.query.at === undefined) {
        await requireSpace(tenant, id);
        return { ...(await liveCount(store, tenant, id, settings, now)), provisional: true };
      }
      const at = Date.parse(request.query.at);
      // The space check and the count go together: on PostgreSQL, two connections, one wait.
      const [, tally] = await Promise.all([
        requireSpace(tenant, id),
        countBefore(store.occupancy, tenant, id, at + 1, settings),
      ]);
      return {
        space: id,
        count: tally.corrected,
        raw: tally.raw,
        asOf: iso(at),
        provisional: at > now - settings.provisionalWindowMs,
      };
    },
  );

  app.get(
    '/v1/spaces/:id/counts',
    {
      onRequest: scope('read'),
      schema: {
        tags,
        security,
        summary: 'Time series of a space’s count',
        description: `Buckets of \`interval\` (e.g. 5m, 1h, 1d) from \`from\` (floored to the minute) until \`to\`, at most ${MAX_BUCKETS}. Each has the count at its start and end, the peak, entries and exits, both corrected and raw, and how many late events changed it.`,
        params: IdParams,
        querystring: Type.Object({
          from: IsoTime('Start of the first bucket.'),
          to: IsoTime('End of the series.'),
          interval: Type.String({
            pattern: INTERVAL.source,
            default: '1h',
            description: 'Bucket size: Nm, Nh or Nd.',
          }),
        }),
        response: {
          200: Type.Object({
            space: Type.String(),
            interval: Type.String(),
            buckets: Type.Array(BucketItem),
          }),
          ...errorResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const { id } = request.params;
      const from = Date.parse(request.query.from);
      const to = Date.parse(request.query.to);
      const interval = parseInterval(request.query.interval);
      if (to <= from) throw new BeaconError('VALIDATION_FAILED', '`to` must be later than `from`');
      if ((to - from) / interval > MAX_BUCKETS) {
        throw new BeaconError('VALIDATION_FAILED', `at most ${MAX_BUCKETS} buckets; use a longer interval`);
      }
      await requireSpace(tenant, id);
      const buckets = await series(
        store.occupancy,
        tenant,
        id,
        { from, to, interval, now: Date.now() },
        settings,
      );
      const tally = (t: { raw: number; corrected: number }) => ({ count: t.corrected, raw: t.raw });
      return {
        space: id,
        interval: request.query.interval,
        buckets: buckets.map((b) => ({
          start: iso(b.start),
          end: iso(b.end),
          startCount: tally(b.startCount),
          endCount: tally(b.endCount),
          peak: tally(b.peak),
          entries: b.entries,
          exits: b.exits,
          lateEvents: b.lateEvents,
          provisional: b.provisional,
        })),
      };
    },
  );

  app.get(
    '/v1/counts',
    {
      onRequest: scope('read'),
      schema: {
        tags,
        security,
        summary: 'Real-time counts of every space',
        description: 'In space id order, paged by cursor; for dashboards showing the whole hierarchy.',
        querystring: ListQuery,
        response: {
          200: Type.Object({
            items: Type.Array(CountAnswer),
            next: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errorResponses(400, 401, 403, 429),
        },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const { limit, after } = request.query;
      const rows = await store.occupancy.spaces({
        tenant,
        limit: limit + 1,
        after: after === undefined ? undefined : decodeCursor(after, ['string'] as const)[0],
      });
      const spaces = rows.slice(0, limit);
      const now = Date.now();
      const items = [];
      for (const s of spaces)
        items.push({ ...(await liveCount(store, tenant, s.id, settings, now)), provisional: true });
      const last = spaces.at(-1);
      return { items, next: rows.length > limit && last ? encodeCursor([last.id]) : null };
    },
  );
}
