import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { BeaconError } from '../../errors/catalog.ts';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses, IsoTime } from '../../http/schemas.ts';
import { epochMs, isoTime } from '../../wire/time.ts';
import { ROLLUP_MS, summarize, type SummaryBucket } from '../rollup.ts';
import type { MonitorStore } from '../store/repositories.ts';
import { IdParams, NullableNumber } from './schemas.ts';
import { requireTarget } from './targets.ts';

const DAY = 86_400_000;

const Summary = Type.Object({
  start: IsoTime('Bucket start.'),
  checks: Type.Integer(),
  up: Type.Integer(),
  uptime: Type.Union([Type.Number(), Type.Null()], { description: 'Percent of checks that were up.' }),
  latencyMs: Type.Object({
    avg: NullableNumber,
    p50: NullableNumber,
    p95: NullableNumber,
    p99: NullableNumber,
  }),
  errors: Type.Record(Type.String(), Type.Integer(), { description: 'Failures by error class.' }),
});

const summaryView = (b: SummaryBucket) => ({
  ...b,
  start: isoTime(b.start),
  errors: b.errors as Record<string, number>,
});

/** `/v1/targets/:id/summary`: uptime, latency and errors per bucket, read from rollups. */
export function registerSummaryRoutes(base: FastifyInstance, ctx: RouteContext<MonitorStore>): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const reader = ctx.store.monitor;

  app.get(
    '/v1/targets/:id/summary',
    {
      onRequest: ctx.scope('read'),
      schema: {
        tags: ['monitor'],
        summary: 'Uptime, latency percentiles and errors per bucket',
        description:
          'Hour and day buckets are read from rollups (all regions merged), so 90 days cost 90 rows; minute buckets are summed from the stored checks. Buckets are UTC-aligned; latency percentiles are bucket upper bounds.',
        security: [{ bearer: [] }],
        params: IdParams,
        querystring: Type.Object({
          from: Type.Optional(IsoTime('Start (default: 24 hours ago).')),
          to: Type.Optional(IsoTime('End, exclusive (default: now).')),
          bucket: Type.Union([Type.Literal('minute'), Type.Literal('hour'), Type.Literal('day')], {
            default: 'hour',
          }),
        }),
        response: {
          200: Type.Object({ bucket: Type.String(), total: Summary, buckets: Type.Array(Summary) }),
          ...errorResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const target = await requireTarget(reader, tenant, request.params.id);
      const { bucket } = request.query;
      const to = epochMs(request.query.to) ?? Date.now() + 1;
      const from = epochMs(request.query.from) ?? to - DAY;
      const size = ROLLUP_MS[bucket];
      if (to <= from) throw new BeaconError('VALIDATION_FAILED', 'to must be after from');
      if ((to - from) / size > 10_000) {
        throw new BeaconError(
          'VALIDATION_FAILED',
          `more than 10000 ${bucket} buckets; choose a larger bucket`,
        );
      }
      const rollups = await reader.rollups({
        tenant,
        target: target.id,
        size: bucket,
        from: from - (from % size),
        to,
      });
      const { buckets, total } = summarize(rollups, { tenant, target: target.id, size: bucket });
      return { bucket, total: summaryView(total), buckets: buckets.map(summaryView) };
    },
  );
}
