import { registerAnalyticsRoutes } from '../analytics/routes.ts';
import { SHARE_HEADER } from '../analytics/routes/shared.ts';
import type { AppParts } from '../http/app.ts';
import { registerLiveRoutes, streamPathItem } from '../live/routes.ts';
import { registerMessageRoutes } from '../messages/routes.ts';
import { registerMonitorRoutes } from '../monitor/routes.ts';
import { registerOperationsRoutes } from '../http/operations-routes.ts';
import { registerStorageRoutes } from '../http/storage-routes.ts';
import { registerNotifyRoutes } from '../notify/routes.ts';
import { registerOccupancyRoutes } from '../occupancy/routes.ts';
import { registerDeadLetterRoutes } from '../sink/routes.ts';
import { registerTenantRoutes } from '../tenants/routes.ts';
import type { LiveHub } from '../live/hub.ts';
import type { BeaconStore } from './store.ts';

/** Every domain's routes, as `beacon start` and `beacon api` serve them, the stream served by `hub`. */
export const apiParts = (hub: LiveHub): AppParts<BeaconStore> => ({
  routes: [
    registerOperationsRoutes,
    registerMessageRoutes,
    (app, ctx) => registerLiveRoutes(app, ctx, hub),
    registerOccupancyRoutes,
    registerAnalyticsRoutes,
    registerNotifyRoutes,
    registerMonitorRoutes,
    registerDeadLetterRoutes,
    registerTenantRoutes,
    registerStorageRoutes,
  ],
  // @fastify/websocket hides WebSocket routes from the document; the stream is described by hand.
  paths: streamPathItem,
  securitySchemes: {
    share: { type: 'apiKey', in: 'header', name: SHARE_HEADER, description: "A shared link's secret." },
  },
});
