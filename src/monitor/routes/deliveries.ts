import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../../http/context.ts';
import { deliveryPage, deliveryPageResponses, DeliveryPageQuery } from '../../notify/routes/schemas.ts';
import type { NotifyRepositories } from '../../notify/store/repositories.ts';
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
        querystring: DeliveryPageQuery,
        response: deliveryPageResponses,
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const target = await requireTarget(ctx.store.monitor, tenant, request.params.id);
      return deliveryPage(ctx.store.outbox, { tenant, source: 'monitor', subject: target.id }, request.query);
    },
  );
}
