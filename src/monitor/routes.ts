import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../http/context.ts';
import type { NotifyRepositories } from '../notify/store/repositories.ts';
import type { TenantRepositories } from '../tenants/store/repositories.ts';
import { registerAlertRuleRoutes } from './routes/alert-rules.ts';
import { registerBadgeRoutes, type PublicPageShows } from './routes/badges.ts';
import { registerCheckRoutes } from './routes/checks.ts';
import { registerDeliveryRoutes } from './routes/deliveries.ts';
import { registerIncidentRoutes } from './routes/incidents.ts';
import { registerMaintenanceRoutes } from './routes/maintenance.ts';
import { registerProbeMetricsRoutes } from './routes/probe-metrics.ts';
import { registerPushRoutes } from './routes/push.ts';
import { CheckItem, TargetView } from './routes/schemas.ts';
import { registerSummaryRoutes } from './routes/summary.ts';
import { registerTargetToolRoutes } from './routes/target-tools.ts';
import { registerTargetRoutes } from './routes/targets.ts';
import type { MonitorStore } from './store/repositories.ts';

/**
 * The monitor's API: `/v1/targets` CRUD, a target's checks, incidents and deliveries (cursor-paged)
 * and its summary from rollups; alert rules, maintenance windows, the push (heartbeat) URL, the
 * badges (`/badge/{target}/{kind}.svg`) and the probe metrics for Prometheus. The components the
 * routes refer to come first, then each resource's routes. `publicPageShows` lets a badge be opened
 * by a public status page that lists its target (routes/badges.ts); without it no page does.
 */
export function registerMonitorRoutes(
  app: FastifyInstance,
  ctx: RouteContext<MonitorStore & NotifyRepositories & TenantRepositories>,
  options: { readonly publicPageShows?: PublicPageShows } = {},
): void {
  app.addSchema(CheckItem);
  app.addSchema(TargetView);
  registerTargetRoutes(app, ctx);
  registerTargetToolRoutes(app, ctx);
  registerCheckRoutes(app, ctx);
  registerIncidentRoutes(app, ctx);
  registerSummaryRoutes(app, ctx);
  registerDeliveryRoutes(app, ctx);
  registerAlertRuleRoutes(app, ctx);
  registerMaintenanceRoutes(app, ctx);
  registerPushRoutes(app, ctx);
  registerBadgeRoutes(app, ctx, options.publicPageShows);
  registerProbeMetricsRoutes(app, ctx);
}
