import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { BeaconError } from '../../errors/catalog.ts';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses, IsoTime } from '../../http/schemas.ts';
import { page } from '../../wire/cursor.ts';
import { epochMs, isoTime } from '../../wire/time.ts';
import { countOfSpace, MAX_BUCKETS, MAX_CORRECTIONS, series, type Bucket } from '../figures.ts';
import { liveCount } from '../projection.ts';
import { MINUTE_MS } from '../segment.ts';
import { countSettings } from '../settings.ts';
import type { OccupancyStore } from '../store/repositories.ts';
import { afterId, CorrectionItem, correctionJson, IdParams, ListQuery, security, tags } from './schemas.ts';

/** An average with at most three decimals, for CSV. */
const round = (n: number) => Math.round(n * 1000) / 1000;

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
const Average = Type.Object({
  count: Type.Number({ description: 'Time-weighted average of the corrected count.' }),
  raw: Type.Number({ description: 'Time-weighted average of the raw count.' }),
});
const OverCapacity = Type.Union([Type.Integer(), Type.Null()], {
  description: 'Milliseconds the corrected count was above the capacity; null when the space has none.',
});
const BucketItem = Type.Object({
  start: IsoTime('Bucket start (inclusive).'),
  end: IsoTime('Bucket end (exclusive).'),
  startCount: TallyObject,
  endCount: TallyObject,
  peak: TallyObject,
  average: Average,
  overCapacityMs: OverCapacity,
  entries: Type.Integer(),
  exits: Type.Integer(),
  lateEvents: Type.Integer({ description: 'Late events in the bucket: where history was corrected.' }),
  provisional: Type.Boolean({
    description:
      'The bucket ends within occupancy.provisionalWindowMs of now: late events may still change it.',
  }),
});

const SeriesQuery = Type.Object({
  from: IsoTime('Start of the first bucket.'),
  to: IsoTime('End of the series.'),
  interval: Type.String({
    pattern: '^([1-9][0-9]{0,6})(m|h|d)$',
    default: '1h',
    description: 'Bucket size: Nm, Nh or Nd.',
  }),
});

const INTERVAL = /^([1-9][0-9]{0,6})(m|h|d)$/;
const UNIT_MS = { m: MINUTE_MS, h: 60 * MINUTE_MS, d: 24 * 60 * MINUTE_MS } as const;

function parseInterval(text: string): number {
  const match = INTERVAL.exec(text)!;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** The counts of spaces: now or at a time, as a time series, and every space's at once. */
/** The first instant after year 9999: the wire's times have four-digit years. */
const LAST_WIRE_MS = Date.UTC(10000, 0, 1);

export function registerCountRoutes(base: FastifyInstance, ctx: RouteContext<OccupancyStore>): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { config, store, scope } = ctx;
  const settings = countSettings(config);

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
      const at = epochMs(request.query.at);
      // The space check, its headcount and the rows in one read: on PostgreSQL, one statement.
      const tally = await countOfSpace(store.occupancy, tenant, id, at + 1, settings);
      if (!tally) throw new BeaconError('SPACE_NOT_FOUND', `no space ${id}`);
      return {
        space: id,
        count: tally.corrected,
        raw: tally.raw,
        asOf: isoTime(at),
        provisional: at > now - settings.provisionalWindowMs,
      };
    },
  );

  /** The series a query asks for, with the space's capacity and the headcounts in its range. */
  async function seriesOf(tenant: string, id: string, query: { from: string; to: string; interval: string }) {
    const from = epochMs(query.from);
    const to = epochMs(query.to);
    const interval = parseInterval(query.interval);
    if (to <= from) throw new BeaconError('VALIDATION_FAILED', '`to` must be later than `from`');
    if ((to - from) / interval > MAX_BUCKETS) {
      throw new BeaconError('VALIDATION_FAILED', `at most ${MAX_BUCKETS} buckets; use a longer interval`);
    }
    // Buckets are whole intervals from `from`: the last may end after `to`, but not past what an
    // ISO 8601 time on the wire can say.
    if (from + Math.ceil((to - from) / interval) * interval > LAST_WIRE_MS) {
      throw new BeaconError(
        'VALIDATION_FAILED',
        'the last bucket would end after 9999-12-31; use a shorter interval',
      );
    }
    const space = await store.occupancy.space(tenant, id);
    if (!space) throw new BeaconError('SPACE_NOT_FOUND', `no space ${id}`);
    const capacity = space.capacity ?? null;
    const buckets = await series(
      store.occupancy,
      tenant,
      id,
      { from, to, interval, now: Date.now(), capacity },
      settings,
    );
    const end = buckets.at(-1)!.end;
    const corrections = await store.occupancy.corrections({
      tenant,
      space: id,
      from: buckets[0]!.start,
      to: end,
      limit: MAX_CORRECTIONS,
    });
    return { capacity, buckets, corrections };
  }

  const tally = (t: { raw: number; corrected: number }) => ({ count: t.corrected, raw: t.raw });
  const average = (t: { raw: number; corrected: number }) => ({ count: t.corrected, raw: t.raw });

  app.get(
    '/v1/spaces/:id/counts',
    {
      onRequest: scope('read'),
      schema: {
        tags,
        security,
        summary: 'Time series of a space’s count',
        description: `Buckets of \`interval\` (e.g. 5m, 1h, 1d) from \`from\` (floored to the minute) until \`to\`, at most ${MAX_BUCKETS}. Each has the count at its start and end, the peak and the time-weighted average, the time over capacity, entries and exits, both corrected and raw, and how many late events changed it; \`summary\` has the same for the whole period, and \`corrections\` the headcounts in it (chart markers). The work is the buckets plus the rows that hold crossings, never the length of the range. As CSV: GET /v1/spaces/{id}/counts.csv.`,
        params: IdParams,
        querystring: SeriesQuery,
        response: {
          200: Type.Object({
            space: Type.String(),
            interval: Type.String(),
            capacity: Type.Union([Type.Integer(), Type.Null()]),
            summary: Type.Object({
              peak: TallyObject,
              average: Average,
              overCapacityMs: OverCapacity,
              entries: Type.Integer(),
              exits: Type.Integer(),
              lateEvents: Type.Integer(),
            }),
            buckets: Type.Array(BucketItem),
            corrections: Type.Array(CorrectionItem),
          }),
          ...errorResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const { id } = request.params;
      const { capacity, buckets, corrections } = await seriesOf(tenant, id, request.query);
      const sum = (f: (b: Bucket) => number) => buckets.reduce((n, b) => n + f(b), 0);
      return {
        space: id,
        interval: request.query.interval,
        capacity,
        summary: {
          peak: tally({
            raw: Math.max(...buckets.map((b) => b.peak.raw)),
            corrected: Math.max(...buckets.map((b) => b.peak.corrected)),
          }),
          // Buckets are equally long, so the period's average is the mean of theirs.
          average: average({
            raw: sum((b) => b.average.raw) / buckets.length,
            corrected: sum((b) => b.average.corrected) / buckets.length,
          }),
          overCapacityMs: capacity === null ? null : sum((b) => b.overCapacityMs ?? 0),
          entries: sum((b) => b.entries),
          exits: sum((b) => b.exits),
          lateEvents: sum((b) => b.lateEvents),
        },
        buckets: buckets.map((b) => ({
          start: isoTime(b.start),
          end: isoTime(b.end),
          startCount: tally(b.startCount),
          endCount: tally(b.endCount),
          peak: tally(b.peak),
          average: average(b.average),
          overCapacityMs: b.overCapacityMs,
          entries: b.entries,
          exits: b.exits,
          lateEvents: b.lateEvents,
          provisional: b.provisional,
        })),
        corrections: corrections.map(correctionJson),
      };
    },
  );

  app.get(
    '/v1/spaces/:id/counts.csv',
    {
      onRequest: scope('read'),
      schema: {
        tags,
        security,
        summary: 'A space’s count by interval, as CSV',
        description:
          'The buckets of GET /v1/spaces/{id}/counts, one line each after a header: start, end, count (start, end, peak, average, corrected), raw (the same), seconds over capacity (empty without a capacity), entries, exits, late events, provisional.',
        params: IdParams,
        querystring: SeriesQuery,
        response: {
          200: { description: 'CSV (RFC 4180), UTF-8.', content: { 'text/csv': { schema: Type.String() } } },
          ...errorResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request, reply) => {
      const tenant = request.principal!.tenant;
      const { id } = request.params;
      const { buckets } = await seriesOf(tenant, id, request.query);
      const lines = [
        'start,end,count_start,count_end,count_peak,count_average,raw_start,raw_end,raw_peak,raw_average,over_capacity_seconds,entries,exits,late_events,provisional',
        ...buckets.map((b) =>
          [
            isoTime(b.start),
            isoTime(b.end),
            b.startCount.corrected,
            b.endCount.corrected,
            b.peak.corrected,
            round(b.average.corrected),
            b.startCount.raw,
            b.endCount.raw,
            b.peak.raw,
            round(b.average.raw),
            b.overCapacityMs === null ? '' : b.overCapacityMs / 1000,
            b.entries,
            b.exits,
            b.lateEvents,
            b.provisional,
          ].join(','),
        ),
      ];
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${id.replace(/[^\w.-]/g, '_')}-counts.csv"`)
        .send(`${lines.join('\r\n')}\r\n`);
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
      const rows = await store.occupancy.spaces({ tenant, limit: limit + 1, after: afterId(after) });
      const { items: spaces, next } = page(
        rows,
        limit,
        (s) => [s.id],
        (s) => s.id,
      );
      const now = Date.now();
      const items = [];
      for (const space of spaces)
        items.push({ ...(await liveCount(store, tenant, space, settings, now)), provisional: true });
      return { items, next };
    },
  );
}
