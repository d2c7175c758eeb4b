import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../http/context.ts';
import { registerCountRoutes } from './routes/counts.ts';
import { registerDoorwayRoutes } from './routes/doorways.ts';
import { registerPlacementRoutes } from './routes/placements.ts';
import { registerSensorEventRoutes } from './routes/sensor-events.ts';
import { registerSensorRoutes } from './routes/sensors.ts';
import { registerSpaceRoutes } from './routes/spaces.ts';
import type { OccupancyStore } from './store/repositories.ts';

/**
 * The occupancy API: spaces, doorways, sensors, placements, `POST /v1/sensor-events` and the count
 * queries, one file per resource under routes/. Registered in this order so the OpenAPI document
 * lists them as it always has.
 */
export function registerOccupancyRoutes(base: FastifyInstance, ctx: RouteContext<OccupancyStore>): void {
  registerSpaceRoutes(base, ctx);
  registerDoorwayRoutes(base, ctx);
  registerSensorRoutes(base, ctx);
  registerPlacementRoutes(base, ctx);
  registerSensorEventRoutes(base, ctx);
  registerCountRoutes(base, ctx);
}
