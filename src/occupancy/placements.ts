import { BeaconError } from '../errors/catalog.ts';
import { isoTime, isoTimeOrNull } from '../wire/time.ts';
import { Counter } from './counter.ts';
import type { Placement } from './model.ts';
import type { OccupancyWriter } from './store/repositories.ts';

const overlaps = (a: Pick<Placement, 'from' | 'to'>, b: Pick<Placement, 'from' | 'to'>): boolean =>
  a.from < (b.to ?? Infinity) && b.from < (a.to ?? Infinity);

/** An end of a placement in a message: its wire time, or `open`. */
const end = (t: number | null) => isoTimeOrNull(t) ?? 'open';

/**
 * Checks a placement against the model: its sensor and doorway exist, `to` follows `from`, and no
 * other placement of the sensor overlaps it (409 PLACEMENT_OVERLAP naming the one it hits).
 */
export async function checkPlacement(tx: OccupancyWriter, tenant: string, p: Placement): Promise<void> {
  if (p.to !== null && p.to <= p.from) {
    throw new BeaconError('VALIDATION_FAILED', 'placement `to` must be later than `from`');
  }
  if (!(await tx.sensor(tenant, p.sensor)))
    throw new BeaconError('SENSOR_NOT_FOUND', `no sensor ${p.sensor}`);
  if (!(await tx.doorway(tenant, p.doorway))) {
    throw new BeaconError('DOORWAY_NOT_FOUND', `no doorway ${p.doorway}`);
  }
  for (const other of await tx.placementsOf(tenant, [p.sensor])) {
    if (other.id !== p.id && overlaps(other, p)) {
      throw new BeaconError(
        'PLACEMENT_OVERLAP',
        `placement ${other.id} of sensor ${p.sensor} already covers [${isoTime(other.from)}, ${end(other.to)})`,
      );
    }
  }
}

/**
 * Counts a sensor's events again over every time a placement change affects (the union of the old
 * and new intervals), inside the transaction that changed it. Returns the spaces whose counts moved.
 */
export async function recountFor(
  tx: OccupancyWriter,
  tenant: string,
  sensor: string,
  intervals: readonly Pick<Placement, 'from' | 'to'>[],
): Promise<Set<string>> {
  const counter = new Counter(tx, tenant);
  for (const i of intervals) await counter.recount(sensor, i.from, i.to);
  await counter.flush();
  return counter.touched;
}
