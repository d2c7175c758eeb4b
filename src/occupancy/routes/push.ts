import type { RouteContext } from '../../http/context.ts';
import { countFrames } from '../projection.ts';
import { countSettings } from '../settings.ts';
import type { OccupancyStore } from '../store/repositories.ts';

/**
 * After a change that moved counts (a placement, a move, a correction), pushes the new counts of the
 * spaces it touched to live subscribers of this process.
 */
export async function pushCounts(
  ctx: RouteContext<OccupancyStore>,
  tenant: string,
  spaces: Iterable<string>,
): Promise<void> {
  const touched = [...spaces];
  if (touched.length === 0 || ctx.hub.size === 0) return;
  ctx.hub.publishDerived(await countFrames(ctx.store, tenant, touched, countSettings(ctx.config)));
}
