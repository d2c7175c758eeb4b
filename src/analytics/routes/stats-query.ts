import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { errorResponses } from '../../http/schemas.ts';
import { DATE_RANGES, INTERVALS, METRICS, runQuery } from '../query.ts';
import type { AnalyticsReader } from '../store/repositories.ts';
import { ownedSite, type AccessHook } from './stats-access.ts';

/** `POST /v1/sites/:id/query`: a site's stats, with any stats access to the site's tenant. */
export function registerStatsQuery(
  base: FastifyInstance,
  reader: AnalyticsReader,
  statsAuth: AccessHook,
): void {
  base.withTypeProvider<TypeBoxTypeProvider>().post(
    '/v1/sites/:id/query',
    {
      onRequest: statsAuth,
      schema: {
        tags: ['analytics'],
        summary: "Query a site's stats",
        description: `In the spirit of Plausible's Stats API v2. Metrics: ${METRICS.join(', ')}. Dimensions: event:page, event:name, event:props:KEY, visit:entry_page, visit:exit_page, visit:source, visit:referrer, visit:utm_source, visit:utm_medium, visit:utm_campaign, visit:device, visit:browser, visit:os. Filters: [op, dimension, [values]] with op is, is_not or contains. dateRange: ${DATE_RANGES.join(', ')} or [from, to] local dates. Intervals (${INTERVALS.join(', ')}) and days are in the site's time zone. Unfiltered queries read pre-aggregated rollups; the answer's meta.source says which. Closed periods carry Cache-Control max-age=3600; open ones no-store.`,
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String() }),
        body: Type.Object({
          metrics: Type.Array(Type.String(), { minItems: 1, maxItems: 10 }),
          dimensions: Type.Optional(Type.Array(Type.String(), { maxItems: 2 })),
          filters: Type.Optional(
            Type.Array(
              Type.Tuple([Type.String(), Type.String(), Type.Array(Type.String(), { maxItems: 100 })]),
              {
                maxItems: 20,
              },
            ),
          ),
          dateRange: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 2, maxItems: 2 })]),
          interval: Type.Optional(Type.String()),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
        }),
        response: {
          200: Type.Object({
            results: Type.Array(
              Type.Object({ dimensions: Type.Array(Type.String()), metrics: Type.Array(Type.Number()) }),
            ),
            meta: Type.Object({ source: Type.String(), timezone: Type.String(), closed: Type.Boolean() }),
            query: Type.Object({
              metrics: Type.Array(Type.String()),
              dimensions: Type.Array(Type.String()),
              dateRange: Type.Array(Type.String()),
              interval: Type.Union([Type.String(), Type.Null()]),
            }),
          }),
          ...errorResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request, reply) => {
      const site = await ownedSite(reader, request, request.params.id);
      const result = await runQuery(reader, site, request.body);
      // A closed period cannot change (short of a reprocess), so a CDN may keep it for up to an hour.
      void reply
        .header('cache-control', result.meta.closed ? 'public, max-age=3600' : 'no-store')
        .header('vary', 'authorization');
      return result;
    },
  );
}
