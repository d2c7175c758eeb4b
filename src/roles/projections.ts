import { analyticsProjection } from '../analytics/projection.ts';
import { messageProjection } from '../messages/projection.ts';
import { checkProjection } from '../monitor/projection.ts';
import { occupancyProjection } from '../occupancy/projection.ts';
import type { Projection } from '../sink/projection.ts';
import type { BeaconStore, Writers } from './store.ts';

/** Every stream's projection; sinks run one consumer per entry. */
export const projections: readonly Projection<Writers, BeaconStore>[] = [
  messageProjection,
  checkProjection,
  analyticsProjection,
  occupancyProjection,
];
