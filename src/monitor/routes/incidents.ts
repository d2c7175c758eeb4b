import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses, IsoTime } from '../../http/schemas.ts';
import { decodeCursor, page } from '../../wire/cursor.ts';
import { isoTime, isoTimeOrNull } from '../../wire/time.ts';
import type { Incident } from '../model.ts';
import type { MonitorStore } from '../store/repositories.ts';
import { IdParams, NullableIso } from './schemas.ts';
import { requireTarget } from './targets.ts';

const incidentView = (i: Incident) => ({
  region: i.region,
  startedAt: isoTime(i.startedAt),
  endedAt: isoTimeOrNull(i.endedAt),
  cause: i.cause,
  detail: i.detail,
});

/** `/v1/targets/:id/incidents`: a target's incidents, newest first, cursor-paged. */
export function registerIncidentRoutes(base: FastifyInstance, ctx: RouteContext<MonitorStore>): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const reader = ctx.store.monitor;

  app.get(
    '/v1/targets/:id/incidents',
    {
      onRequest: ctx.scope('read'),
      schema: {
        tags: ['monitor'],
        summary: "A target's incidents, newest first",
        description:
          'An incident opens after `downAfter` failed checks in a row in one region (dated from the first) and closes after `upAfter` good ones.',
        security: [{ bearer: [] }],
        params: IdParams,
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
          after: Type.Optional(Type.String({ description: 'The `next` cursor of the previous page.' })),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                region: Type.String(),
                startedAt: IsoTime('Slot start of the first failed check.'),
                endedAt: NullableIso('Slot start of the check that closed it; null while open.'),
                cause: Type.String({ description: 'Error class of the check that opened it.' }),
                detail: Type.String(),
              }),
            ),
            next: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errorResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const target = await requireTarget(reader, tenant, request.params.id);
      const { limit, after } = request.query;
      const before = after === undefined ? undefined : decodeCursor(after, ['number'] as const)[0];
      const rows = await reader.listIncidents(tenant, target.id, limit + 1, before);
      return page(rows, limit, (i) => [i.startedAt], incidentView);
    },
  );
}
