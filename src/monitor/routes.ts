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
import { registerStatusPageRoutes } from './routes/status-pages.ts';
import { registerPublicStatusRoutes } from './routes/status-public.ts';
import { registerSummaryRoutes } from './routes/summary.ts';
import { StatusCache } from './status/cache.ts';
import { pageShows } from './status/view.ts';
import { STATUS_SLUG } from './status-page.ts';
import { registerTargetToolRoutes } from './routes/target-tools.ts';
import { registerTargetRoutes } from './routes/targets.ts';
import type { MonitorStore } from './store/repositories.ts';

/**
 * The monitor's API: `/v1/targets` CRUD, a target's checks, incidents and deliveries (cursor-paged)
 * and its summary from rollups; alert rules, maintenance windows, the push (heartbeat) URL, status
 * pages (managed under `/v1/status-pages`, public under `/status/{slug}`), the badges
 * (`/badge/{target}/{kind}.svg`, opened with a badge token or by a public status page that lists
 * the target) and the probe metrics for Prometheus. The components the routes refer to come first,
 * then each resource's routes. `publicPageShows` replaces the status pages' own answer to which
 * page shows a target (tests).
 */
const STATUS_SLUG_PATTERN = new RegExp(STATUS_SLUG);

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
  const statusCache = new StatusCache({ ttlMs: ctx.config.monitor.statusPages.cacheSeconds * 1000 });
  registerStatusPageRoutes(app, ctx, statusCache);
  registerPublicStatusRoutes(app, ctx, statusCache);
  const maxTargets = ctx.config.monitor.statusPages.maxTargets;
  const byPages: PublicPageShows = async (slug, targetId) => {
    const page = STATUS_SLUG_PATTERN.test(slug) ? await ctx.store.statusPages.bySlug(slug) : undefined;
    if (!page || (await ctx.authenticator.tenantDisabled(page.tenant))) return undefined;
    return (await pageShows(ctx.store, page, targetId, maxTargets)) ? { tenant: page.tenant } : undefined;
  };
  registerBadgeRoutes(app, ctx, options.publicPageShows ?? byPages);
  registerProbeMetricsRoutes(app, ctx);
}
