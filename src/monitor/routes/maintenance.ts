import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses, IsoTime } from '../../http/schemas.ts';
import { isoTime } from '../../wire/time.ts';
import {
  covers,
  currentOrNext,
  MaintenanceSpecSchema,
  occurrenceAt,
  parseMaintenanceSpec,
  type MaintenanceWindow,
} from '../maintenance.ts';
import type { MonitorStore } from '../store/repositories.ts';
import { registerDefinitionRoutes } from './definitions.ts';
import { IdParams } from './schemas.ts';
import { requireTarget } from './targets.ts';

/** A maintenance window on the wire, with whether it is in force and its current or next occurrence. */
export const MaintenanceView = Type.Object(
  {
    ...MaintenanceSpecSchema.properties,
    id: Type.String(),
    source: Type.Union([Type.Literal('api'), Type.Literal('file')]),
    createdAt: IsoTime('When the window was created.'),
    updatedAt: IsoTime('When the window last changed.'),
    active: Type.Boolean({ description: 'True while an occurrence is in force.' }),
    next: Type.Union([Type.Object({ start: IsoTime('Start.'), end: IsoTime('End.') }), Type.Null()], {
      description: 'The occurrence in force, else the next one; null when the window is over.',
    }),
  },
  { $id: 'MaintenanceWindow' },
);

/** A window as `MaintenanceView` shows it at `now`. */
export function maintenanceView(w: MaintenanceWindow, now: number) {
  const next = currentOrNext(w, now);
  return {
    ...w,
    createdAt: isoTime(w.createdAt),
    updatedAt: isoTime(w.updatedAt),
    active: occurrenceAt(w, now) !== undefined,
    next: next ? { start: isoTime(next.start), end: isoTime(next.end) } : null,
  };
}

/** Windows listed per target page: a tenant has few, so they are read whole and filtered. */
const MAX_WINDOWS = 1000;

/** `/v1/maintenance-windows`, and the windows covering one target. */
export function registerMaintenanceRoutes(base: FastifyInstance, ctx: RouteContext<MonitorStore>): void {
  base.addSchema(MaintenanceView);
  registerDefinitionRoutes(base, ctx, {
    path: '/v1/maintenance-windows',
    noun: 'maintenance window',
    ref: 'MaintenanceWindow',
    repository: (store) => store.maintenance,
    parse: (input) => Promise.resolve(parseMaintenanceSpec(input)),
    view: maintenanceView,
  });
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/v1/targets/:id/maintenance-windows',
    {
      onRequest: ctx.scope('read'),
      schema: {
        tags: ['monitor'],
        summary: 'The maintenance windows covering a target',
        description: 'Windows naming it, one of its tags, or every target; at most 1000.',
        security: [{ bearer: [] }],
        params: IdParams,
        response: {
          200: Type.Object({ items: Type.Array(Type.Ref('MaintenanceWindow')) }),
          ...errorResponses(401, 403, 404, 429),
        },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const target = await requireTarget(ctx.store.monitor, tenant, request.params.id);
      const windows = await ctx.store.maintenance.list(tenant, MAX_WINDOWS);
      const now = Date.now();
      return {
        items: windows.filter((w) => covers(w, target.id, target.tags)).map((w) => maintenanceView(w, now)),
      };
    },
  );
}
