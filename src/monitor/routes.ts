import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../http/context.ts';
import { registerCheckRoutes } from './routes/checks.ts';
import { registerIncidentRoutes } from './routes/incidents.ts';
import { CheckItem, TargetView } from './routes/schemas.ts';
import { registerSummaryRoutes } from './routes/summary.ts';
import { registerTargetRoutes } from './routes/targets.ts';
import type { MonitorStore } from './store/repositories.ts';

/**
 * The monitor's API: `/v1/targets` CRUD, and a target's checks and incidents (cursor-paged) and its
 * summary from rollups. The components the routes refer to come first, then each resource's routes.
 */
export function registerMonitorRoutes(app: FastifyInstance, ctx: RouteContext<MonitorStore>): void {
  app.addSchema(CheckItem);
  app.addSchema(TargetView);
  registerTargetRoutes(app, ctx);
  registerCheckRoutes(app, ctx);
  registerIncidentRoutes(app, ctx);
  registerSummaryRoutes(app, ctx);
}
