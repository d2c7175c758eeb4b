import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses } from '../../http/schemas.ts';
import { encodeCursor } from '../../wire/cursor.ts';
import type { OccupancyStore } from '../store/repositories.ts';
import {
  AlertItem,
  alertJson,
  NewestQuery,
  newestAfter,
  NotificationItem,
  notificationJson,
  pageOf,
  security,
  tags,
} from './schemas.ts';

/** A newest-first page from rows read with `limit + 1`, keyed by id. */
function newest<T extends { id: string }, J>(rows: readonly T[], limit: number, json: (row: T) => J) {
  const shown = rows.slice(0, limit);
  return { items: shown.map(json), next: rows.length > limit ? encodeCursor([shown.at(-1)!.id]) : null };
}

/**
 * Occupancy alerts (capacity, silent sensors, drift) as they opened and closed, and the notifications
 * they sent: what, when, how many attempts, and the last error.
 */
export function registerAlertRoutes(base: FastifyInstance, ctx: RouteContext<OccupancyStore>): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { store, scope } = ctx;
  app.get(
    '/v1/occupancy-alerts',
    {
      onRequest: scope('read'),
      schema: {
        tags,
        security,
        summary: 'Capacity, silent-sensor and drift alerts, newest first',
        description:
          '`subject` keeps the alerts about one space, sensor or doorway (and, for a space, those of its doorways and sensors).',
        querystring: Type.Object({
          ...NewestQuery.properties,
          kind: Type.Optional(
            Type.Union([Type.Literal('capacity'), Type.Literal('silent'), Type.Literal('drift')]),
          ),
          subject: Type.Optional(Type.String()),
        }),
        response: { 200: pageOf(AlertItem), ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (request) => {
      const q = request.query;
      const rows = await store.occupancy.alerts({
        tenant: request.principal!.tenant,
        limit: q.limit + 1,
        kind: q.kind,
        subject: q.subject,
        before: newestAfter(q),
      });
      return newest(rows, q.limit, alertJson);
    },
  );
  app.get(
    '/v1/occupancy-notifications',
    {
      onRequest: scope('read'),
      schema: {
        tags,
        security,
        summary: 'Notifications occupancy alerts sent (or are still trying to send), newest first',
        querystring: NewestQuery,
        response: { 200: pageOf(NotificationItem), ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (request) => {
      const q = request.query;
      const rows = await store.occupancy.outbox({
        tenant: request.principal!.tenant,
        limit: q.limit + 1,
        before: newestAfter(q),
      });
      return newest(rows, q.limit, notificationJson);
    },
  );
}
