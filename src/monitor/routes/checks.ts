import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses, IsoTime } from '../../http/schemas.ts';
import { decodeCursor, page } from '../../wire/cursor.ts';
import { epochMs } from '../../wire/time.ts';
import type { MonitorStore } from '../store/repositories.ts';
import { checkView, IdParams } from './schemas.ts';
import { requireTarget } from './targets.ts';

/** `/v1/targets/:id/checks`: a target's checks, newest first, cursor-paged. */
export function registerCheckRoutes(base: FastifyInstance, ctx: RouteContext<MonitorStore>): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const reader = ctx.store.monitor;

  app.get(
    '/v1/targets/:id/checks',
    {
      onRequest: ctx.scope('read'),
      schema: {
        tags: ['monitor'],
        summary: "A target's checks, newest first",
        description: 'One row per (target, region, slot), paged by an opaque keyset cursor.',
        security: [{ bearer: [] }],
        params: IdParams,
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
          after: Type.Optional(Type.String({ description: 'The `next` cursor of the previous page.' })),
          from: Type.Optional(IsoTime('Only checks scheduled at or after this time.')),
          to: Type.Optional(IsoTime('Only checks scheduled before this time.')),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(Type.Ref('Check')),
            next: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errorResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const target = await requireTarget(reader, tenant, request.params.id);
      const { limit, after, from, to } = request.query;
      const cursor = after === undefined ? undefined : decodeCursor(after, ['number', 'string'] as const);
      const rows = await reader.listChecks({
        tenant,
        target: target.id,
        limit: limit + 1,
        before: cursor && { scheduledAt: cursor[0], region: cursor[1] },
        from: epochMs(from),
        to: epochMs(to),
      });
      return page(rows, limit, (c) => [c.scheduledAt, c.region], checkView);
    },
  );
}
