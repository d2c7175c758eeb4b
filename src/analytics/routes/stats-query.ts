import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { errorResponses } from '../../http/schemas.ts';
import { GOAL_METRICS } from '../goal-query.ts';
import type { Site } from '../model.ts';
import { DATE_RANGES, INTERVALS, METRICS, runQuery, type QueryOptions } from '../query.ts';
import type { AnalyticsReader } from '../store/repositories.ts';
import { DateRange, Filters, SampleMetaBody } from './schemas.ts';
import type { AccessHook } from './stats-access.ts';

/** Where a site's read routes are mounted: its own (`/v1/sites/:id`) or a shared link's. */
export interface SiteMount {
  /** The path prefix, with its one parameter (`/v1/sites/:id`, `/v1/shared/:secret`). */
  readonly prefix: string;
  /** The prefix parameter's schema. */
  readonly params: ReturnType<typeof Type.Object>;
  readonly onRequest: AccessHook;
  /** The site a request may read (404 otherwise); never one the caller cannot reach. */
  readonly site: (request: FastifyRequest) => Promise<Site>;
  readonly security: Record<string, string[]>[];
  readonly reader: AnalyticsReader;
  readonly options: QueryOptions;
}

const StatsBody = Type.Object(
  {
    metrics: Type.Array(Type.String(), { minItems: 1, maxItems: 10 }),
    dimensions: Type.Optional(Type.Array(Type.String(), { maxItems: 2 })),
    filters: Type.Optional(Filters),
    dateRange: DateRange,
    interval: Type.Optional(Type.String()),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
    imports: Type.Optional(
      Type.Boolean({ description: 'Add imported aggregates where the answer allows (default true).' }),
    ),
    currency: Type.Optional(
      Type.String({ description: "ISO 4217 code revenue metrics total (default: the site's currency)." }),
    ),
  },
  { additionalProperties: false },
);

/** `POST …/query`: a site's stats, with any stats access to the site's tenant or through a shared link. */
export function registerStatsQuery(base: FastifyInstance, mount: SiteMount): void {
  base.withTypeProvider<TypeBoxTypeProvider>().post(
    `${mount.prefix}/query`,
    {
      onRequest: mount.onRequest,
      schema: {
        tags: ['analytics'],
        summary: "Query a site's stats",
        description: `In the spirit of Plausible's Stats API v2. Metrics: ${METRICS.join(', ')}; with goals (an \`event:goal\` dimension or filter): ${GOAL_METRICS.join(', ')}. Dimensions: event:page, event:name, event:props:KEY, event:goal, visit:entry_page, visit:exit_page, visit:source, visit:referrer, visit:utm_source, visit:utm_medium, visit:utm_campaign, visit:device, visit:browser, visit:os. Filters: [op, dimension, [values]] with op is, is_not or contains; ["is", "segment", [ID]] applies a saved segment. dateRange: ${DATE_RANGES.join(', ')} or [from, to] local dates. Intervals (${INTERVALS.join(', ')}) and days are in the site's time zone. Unfiltered queries read pre-aggregated rollups, with imported aggregates added; goal and revenue metrics read visits, sampled past \`analytics.visitBudget\` visits. The answer's meta.source says which. Closed periods carry Cache-Control max-age=3600; open ones no-store.`,
        security: mount.security,
        params: mount.params,
        body: StatsBody,
        response: {
          200: Type.Object({
            results: Type.Array(
              Type.Object({ dimensions: Type.Array(Type.String()), metrics: Type.Array(Type.Number()) }),
            ),
            meta: Type.Object({
              source: Type.String(),
              timezone: Type.String(),
              closed: Type.Boolean(),
              imported: Type.Boolean({ description: 'True when imported aggregates were added in.' }),
              sample: SampleMetaBody,
              currency: Type.Optional(Type.String()),
              otherCurrencies: Type.Optional(
                Type.Record(Type.String(), Type.Number(), {
                  description: 'Revenue in other currencies, left out of the revenue metrics.',
                }),
              ),
            }),
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
      const site = await mount.site(request);
      const result = await runQuery(mount.reader, site, request.body, Date.now(), mount.options);
      // A closed period cannot change (short of a reprocess), so a CDN may keep it for up to an hour.
      void reply
        .header('cache-control', result.meta.closed ? 'public, max-age=3600' : 'no-store')
        .header('vary', 'authorization');
      return result;
    },
  );
}
