import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { errorResponses } from '../../http/schemas.ts';
import { runFunnel } from '../funnel.ts';
import { runJourneys } from '../journeys.ts';
import { runRetention } from '../retention.ts';
import { AnalysisMetaBody, DateRange, Filters, GoalSpecBody } from './schemas.ts';
import type { SiteMount } from './stats-query.ts';

const Visits = Type.Integer({ minimum: 0 });
const JourneyDirectionBody = Type.Object({
  paths: Type.Array(
    Type.Object({
      pages: Type.Array(Type.String(), {
        description: 'Nearest first; `(exit)` or `(entrance)` ends a short path.',
      }),
      visits: Visits,
      share: Type.Number({ description: "Share of the page's visits, %." }),
    }),
  ),
  flow: Type.Object({
    columns: Type.Array(Type.Array(Type.Object({ page: Type.String(), visits: Visits }))),
    links: Type.Array(
      Type.Object({ depth: Type.Integer(), from: Type.String(), to: Type.String(), visits: Visits }),
    ),
  }),
});

/**
 * `POST …/funnel`, `…/journeys` and `…/retention`: the visit-level analyses of a site, where its stats
 * query is mounted. Each reads at most `analytics.visitBudget` visits, sampling visitors past it.
 */
export function registerVisitAnalyses(base: FastifyInstance, mount: SiteMount): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const common = {
    onRequest: mount.onRequest,
    tags: ['analytics'],
    security: mount.security,
    params: mount.params,
    errors: errorResponses(400, 401, 403, 404, 429),
  };
  const budget = mount.options.visitBudget;

  app.post(
    `${mount.prefix}/funnel`,
    {
      onRequest: common.onRequest,
      schema: {
        tags: common.tags,
        summary: 'A funnel: visitors, drop-off and time between 2 to 8 ordered steps',
        description:
          'Each step is a saved goal (`{"goal": NAME}`) or a goal given inline (`{"page": "/pricing"}`, `{"event": "signup", "props": [["is", "plan", ["pro"]]]}`). `within` is `visit` (all steps in one visit, the default) or `Nd` (within N days of the first step; visitors are only linked across days under monthly salts). Filters and segments choose the visits.',
        security: common.security,
        params: common.params,
        body: Type.Object(
          {
            steps: Type.Array(
              Type.Union([
                Type.Object({ goal: Type.String() }, { additionalProperties: false }),
                GoalSpecBody,
              ]),
              {
                minItems: 2,
                maxItems: 8,
              },
            ),
            within: Type.Optional(Type.String({ description: '`visit`, or `1d` to `31d`.' })),
            dateRange: DateRange,
            filters: Type.Optional(Filters),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            steps: Type.Array(
              Type.Object({
                label: Type.String(),
                visitors: Visits,
                conversionRate: Type.Number({ description: "Share of the first step's visitors, %." }),
                dropoff: Visits,
                dropoffRate: Type.Number({ description: 'Share of the step before that dropped off, %.' }),
                medianSecondsToNext: Type.Union([Type.Integer(), Type.Null()]),
              }),
            ),
            visitors: Visits,
            within: Type.String(),
            meta: AnalysisMetaBody,
          }),
          ...common.errors,
        },
      },
    },
    async (request) => runFunnel(mount.reader, await mount.site(request), request.body, Date.now(), budget),
  );

  app.post(
    `${mount.prefix}/journeys`,
    {
      onRequest: common.onRequest,
      schema: {
        tags: common.tags,
        summary: 'The paths visits took into and out of a page',
        description:
          'Top paths `depth` pages after the page (`next`) and before it (`previous`), each visit counted once at its first view of the page, with a flow (columns of pages by steps away, and the links between them) for a diagram.',
        security: common.security,
        params: common.params,
        body: Type.Object(
          {
            page: Type.String({ description: 'The page path.' }),
            depth: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
            dateRange: DateRange,
            filters: Type.Optional(Filters),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            page: Type.String(),
            visits: Visits,
            depth: Type.Integer(),
            next: JourneyDirectionBody,
            previous: JourneyDirectionBody,
            meta: AnalysisMetaBody,
          }),
          ...common.errors,
        },
      },
    },
    async (request) => runJourneys(mount.reader, await mount.site(request), request.body, Date.now(), budget),
  );

  app.post(
    `${mount.prefix}/retention`,
    {
      onRequest: common.onRequest,
      schema: {
        tags: common.tags,
        summary: 'Cohorts of visitors by first-seen day or week, and the share returning each later period',
        description:
          "A visitor is a visitor id, so retention reaches as far as the site's salt rotation allows: not past a UTC day with daily salts (the default), not past a UTC month with monthly ones. At most 92 daily or 53 weekly cohorts.",
        security: common.security,
        params: common.params,
        body: Type.Object(
          {
            period: Type.String({ description: '`day` or `week`.' }),
            dateRange: DateRange,
            filters: Type.Optional(Filters),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            period: Type.String(),
            cohorts: Type.Array(
              Type.Object({
                start: Type.String(),
                visitors: Visits,
                returning: Type.Array(Visits),
                shares: Type.Array(Type.Number()),
              }),
            ),
            meta: AnalysisMetaBody,
          }),
          ...common.errors,
        },
      },
    },
    async (request) =>
      runRetention(mount.reader, await mount.site(request), request.body, Date.now(), budget),
  );
}
