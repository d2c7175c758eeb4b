import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses } from '../../http/schemas.ts';
import { deliveryView } from '../../notify/routes/schemas.ts';
import type { NotifyRepositories } from '../../notify/store/repositories.ts';
import { decodeCursor, page } from '../../wire/cursor.ts';
import type { MonitorStore } from '../store/repositories.ts';
import { IdParams } from './schemas.ts';
import { requireTarget } from './targets.ts';

/** `/v1/targets/:id/deliveries`: what was told about a target, to which channel, when, and the answer. */
export function registerDeliveryRoutes(
  base: FastifyInstance,
  ctx: RouteContext<MonitorStore & NotifyRepositories>,
): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/v1/targets/:id/deliveries',
    {
      onRequest: ctx.scope('read'),
      schema: {
        tags: ['monitor'],
        summary: "A target's notification history, newest first",
        description:
          'One item per notification per channel: queued, sent (with the service’s answer) or given up.',
        security: [{ bearer: [] }],
        params: IdParams,
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
          after: Type.Optional(Type.String({ description: 'The `next` cursor of the previous page.' })),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(Type.Ref('Delivery')),
            next: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errorResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const target = await requireTarget(ctx.store.monitor, tenant, request.params.id);
      const { limit, after } = request.query;
      const before = after === undefined ? undefined : decodeCursor(after, ['number'] as const)[0];
      const rows = await ctx.store.outbox.history({
        tenant,
        source: 'monitor',
        subject: target.id,
        limit: limit + 1,
        before,
      });
      return page(rows, limit, (r) => [r.id], deliveryView);
    },
  );
}
