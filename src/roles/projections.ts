import { analyticsProjection } from '../analytics/projection.ts';
import { messageProjection } from '../messages/projection.ts';
import { checkProjection } from '../monitor/projection.ts';
import { occupancyProjection } from '../occupancy/projection.ts';
import type { Projection } from '../sink/projection.ts';

/** Every stream's projection; sinks run one consumer per entry. */
export const projections: readonly Projection[] = [
  messageProjection,
  checkProjection,
  analyticsProjection,
  occupancyProjection,
];
