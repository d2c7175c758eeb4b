import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../http/context.ts';
import { registerAlertRoutes } from './routes/alerts.ts';
import { registerCorrectionRoutes } from './routes/corrections.ts';
import { registerCountRoutes } from './routes/counts.ts';
import { registerDoorwayRoutes } from './routes/doorways.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerMoveRoutes } from './routes/moves.ts';
import { registerPlacementRoutes } from './routes/placements.ts';
import { registerSensorEventRoutes } from './routes/sensor-events.ts';
import { registerSensorRoutes } from './routes/sensors.ts';
import { registerSpaceRoutes } from './routes/spaces.ts';
import type { OccupancyStore } from './store/repositories.ts';

/**
 * The occupancy API: spaces, doorways, sensors, placements, `POST /v1/sensor-events`, the count
 * queries, moves, corrections and the audit trail, sensor health and drift, and alerts; one file per
 * resource under routes/. Registered in this order so the OpenAPI document lists the older ones as it
 * always has.
 */
export function registerOccupancyRoutes(base: FastifyInstance, ctx: RouteContext<OccupancyStore>): void {
  registerSpaceRoutes(base, ctx);
  registerDoorwayRoutes(base, ctx);
  registerSensorRoutes(base, ctx);
  registerPlacementRoutes(base, ctx);
  registerSensorEventRoutes(base, ctx);
  registerCountRoutes(base, ctx);
  registerMoveRoutes(base, ctx);
  registerCorrectionRoutes(base, ctx);
  registerHealthRoutes(base, ctx);
  registerAlertRoutes(base, ctx);
}
