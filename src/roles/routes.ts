import { registerAnalyticsRoutes } from '../analytics/routes.ts';
import type { AppParts } from '../http/app.ts';
import { registerLiveRoutes, streamPathItem } from '../live/routes.ts';
import { registerMessageRoutes } from '../messages/routes.ts';
import { registerMonitorRoutes } from '../monitor/routes.ts';
import { registerNotifyRoutes } from '../notify/routes.ts';
import { registerOperationsRoutes } from '../observability/routes.ts';
import { registerOccupancyRoutes } from '../occupancy/routes.ts';
import { registerDeadLetterRoutes } from '../sink/routes.ts';
import { registerTenantRoutes } from '../tenants/routes.ts';
import type { BeaconStore } from './store.ts';

/** Every domain's routes, as `beacon start` and `beacon api` serve them. */
export const apiParts: AppParts<BeaconStore> = {
  routes: [
    registerOperationsRoutes,
    registerMessageRoutes,
    registerLiveRoutes,
    registerOccupancyRoutes,
    registerAnalyticsRoutes,
    registerNotifyRoutes,
    registerMonitorRoutes,
    registerDeadLetterRoutes,
    registerTenantRoutes,
  ],
  // @fastify/websocket hides WebSocket routes from the document; the stream is described by hand.
  paths: streamPathItem,
};
