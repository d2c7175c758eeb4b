import type { DerivedFrame } from '../log/log.ts';
import type { LogRecord } from '../log/record.ts';
import type { Projection } from '../sink/projection.ts';
import { isoTime } from '../wire/time.ts';
import type { OccupancyRepositories, OccupancyWriters } from './store/repositories.ts';
import { Counter } from './counter.ts';
import { CountingModel } from './counting-model.ts';
import { countBefore, type CountSettings } from './figures.ts';
import type { SensorEvent } from './model.ts';
import { countSettings } from './settings.ts';

/** The body of a sensor-events record, as POST /v1/sensor-events writes it. */
export interface SensorEventBody {
  readonly sensor: string;
  readonly direction: 1 | -1;
  readonly id?: string;
  readonly sequence?: number;
}

/** A record as the event the counter keeps. Late is judged from the record alone, so replay agrees. */
export function eventOf(record: LogRecord, lateAfterMs: number): SensorEvent {
  const body = record.body as SensorEventBody;
  return {
    key: record.key,
    sensor: body.sensor,
    ts: record.ts,
    direction: body.direction === -1 ? -1 : 1,
    receivedAt: record.receivedAt,
    late: record.receivedAt - record.ts > lateAfterMs,
    placement: null,
  };
}

/** A space's real-time count as pushed on /v1/stream and answered by GET /v1/spaces/:id/count. */
export async function liveCount(
  store: OccupancyRepositories,
  tenant: string,
  space: string,
  settings: CountSettings,
  now = Date.now(),
) {
  const tally = await countBefore(store.occupancy, tenant, space, now + 1, settings);
  return { space, count: tally.corrected, raw: tally.raw, asOf: isoTime(now) };
}

/** Frames announcing the new counts of spaces, one per space, filtered by the space as entity. */
export async function countFrames(
  store: OccupancyRepositories,
  tenant: string,
  spaces: Iterable<string>,
  settings: CountSettings,
): Promise<DerivedFrame[]> {
  const frames: DerivedFrame[] = [];
  const now = Date.now();
  for (const space of spaces) {
    const count = await liveCount(store, tenant, space, settings, now);
    frames.push({
      tenant,
      stream: 'sensor-events',
      entity: space,
      frame: JSON.stringify({ type: 'count', stream: 'sensor-events', ...count }),
    });
  }
  return frames;
}

/** By store (its repositories), by tenant: the model a sink counts against, as last read. */
const modelsByStore = new WeakMap<object, Map<string, CountingModel>>();
/**
 * Tenants whose model a sink keeps between batches, the least recently counted dropped first (a
 * model holds every placement and doorway its tenant's events named, so thousands of tenants would
 * otherwise hold them all for as long as the process runs). A dropped tenant's next batch reads its
 * model again, as after any change to it.
 */
export const KEPT_MODELS = 1000;

/** The tenant's model at `version` from `models`, kept as the most recently used (made when none is). */
export function modelAt(models: Map<string, CountingModel>, tenant: string, version: number): CountingModel {
  let model = models.get(tenant);
  models.delete(tenant);
  if (model?.version !== version) model = new CountingModel(version);
  models.set(tenant, model);
  while (models.size > KEPT_MODELS) models.delete(models.keys().next().value!);
  return model;
}

/**
 * Sensor events become counts: each event is kept (deduplicated by record key), counted against the
 * placement in force at its timestamp, and every minute, hour and day it touches is corrected,
 * however late it arrived. After commit the new counts of the spaces touched are pushed live.
 */
export const occupancyProjection: Projection<OccupancyWriters, OccupancyRepositories> = {
  stream: 'sensor-events',
  group: 'sink-occupancy',
  async apply(tx, records, context) {
    const lateAfterMs = context.config.occupancy.lateAfterMs;
    const byTenant = new Map<string, SensorEvent[]>();
    for (const record of records) {
      let events = byTenant.get(record.tenant);
      if (!events) byTenant.set(record.tenant, (events = []));
      events.push(eventOf(record, lateAfterMs));
    }
    let inserted = 0;
    const touched = new Map<string, Set<string>>();
    let models = modelsByStore.get(context.store);
    if (!models) modelsByStore.set(context.store, (models = new Map<string, CountingModel>()));
    for (const [tenant, events] of byTenant) {
      // What earlier batches read of the model is kept while its version stays (a sink batch of
      // 1,000 events otherwise reads every placement and doorway again).
      const model = modelAt(models, tenant, await tx.occupancy.modelVersion(tenant));
      const counter = new Counter(tx.occupancy, tenant, model);
      inserted += await counter.add(events);
      await counter.flush();
      touched.set(tenant, counter.touched);
    }
    if (context.listening()) {
      const settings = countSettings(context.config);
      context.afterCommit(async () => {
        for (const [tenant, spaces] of touched) {
          context.publish(await countFrames(context.store, tenant, spaces, settings));
        }
      });
    }
    return inserted;
  },
  reset: (tx) => tx.occupancy.resetProjection(),
};
