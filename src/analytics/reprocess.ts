import { uuidv7 } from '../ingest/ids.ts';
import { BeaconError } from '../errors/catalog.ts';
import type { Log } from '../log/log.ts';
import type { AnalyticsStore } from './store/repositories.ts';
import type { Site } from './model.ts';
import type { CollectedEvent } from './event-rules.ts';
import { projectSiteEvents, toCollected } from './projection.ts';
import { DAY, formatLocal, fromLocal, startOfDay, toLocal } from './time-zone.ts';

/** What `reprocess` reports as it goes: records read from the log, then each day rebuilt. */
export type ReprocessProgress =
  | { readonly phase: 'read'; readonly records: number; readonly matched: number; readonly of: number }
  | {
      readonly phase: 'day';
      readonly day: string;
      readonly events: number;
      readonly done: number;
      readonly of: number;
    };

/** What to reprocess: a site's whole local days, `from` to `to`, from the records in `log`. */
export interface ReprocessOptions {
  readonly log: Log;
  readonly store: AnalyticsStore;
  readonly site: string;
  /** First and last local date, `YYYY-MM-DD`, inclusive. */
  readonly from: string;
  readonly to: string;
  readonly onProgress?: (progress: ReprocessProgress) => void;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Rebuilds a site's sessions and rollups for whole local days from the raw records in the log, after a
 * change to the processing logic. The log is read by a throwaway consumer group (on Kafka, a replay
 * from the earliest offset), so ingest and the live sink keep running. Each day is then rebuilt in one
 * store transaction: clear the day, project its events. The live sink's projection skips any event
 * whose key is already stored, so an event is counted once whether the sink or the rebuild got it
 * first; running it twice gives the same numbers.
 *
 * Limits: the matching records are held in memory; a visit that crosses midnight into a day outside
 * the range keeps its earlier figures there.
 */
export async function reprocess(options: ReprocessOptions): Promise<{ days: number; events: number }> {
  const { log, store } = options;
  const site: Site | undefined = await store.analytics.site(options.site);
  if (!site) throw new BeaconError('SITE_UNKNOWN', `no site ${options.site}`);
  if (!DATE.test(options.from) || !DATE.test(options.to))
    throw new BeaconError('VALIDATION_FAILED', '--from and --to take YYYY-MM-DD');
  const fromLocalMs = Date.parse(`${options.from}T00:00:00Z`);
  const toLocalMs = Date.parse(`${options.to}T00:00:00Z`) + DAY;
  if (!(fromLocalMs < toLocalMs)) throw new BeaconError('VALIDATION_FAILED', '--from must not be after --to');
  const fromTs = fromLocal(fromLocalMs, site.timezone);
  const toTs = fromLocal(toLocalMs, site.timezone);

  const byDay = new Map<number, CollectedEvent[]>();
  const end = (await log.endOffsets('pageviews')).get(0) ?? 0;
  let records = 0;
  let matched = 0;
  // The embedded log numbers records from 1, so an end offset of 1 or less means an empty stream.
  if (end > 1) {
    await new Promise<void>((resolve, reject) => {
      const consumer = log.consume({
        group: `reprocess-${uuidv7()}`,
        stream: 'pageviews',
        maxBatch: 5000,
        position: (partitions) => Promise.resolve(new Map(partitions.map((p) => [p, 0]))),
        handle: (batch) => {
          for (const record of batch.records) {
            if (record.offset >= end) continue;
            records += 1;
            if (record.tenant !== site.tenant || record.entity !== site.id) continue;
            if (record.ts < fromTs || record.ts >= toTs) continue;
            const event = toCollected(record);
            if (!event) continue;
            matched += 1;
            const day = startOfDay(toLocal(record.ts, site.timezone));
            let list = byDay.get(day);
            if (!list) byDay.set(day, (list = []));
            list.push(event);
          }
          options.onProgress?.({ phase: 'read', records, matched, of: end - 1 });
          if (batch.nextOffset >= end) consumer.close().then(resolve, reject);
          return Promise.resolve();
        },
      });
    });
  }

  const days: number[] = [];
  for (let d = fromLocalMs; d < toLocalMs; d += DAY) days.push(d);
  let events = 0;
  for (const [i, day] of days.entries()) {
    const list = byDay.get(day) ?? [];
    await store.transaction(async (tx) => {
      await tx.analytics.clearRange(site.tenant, site.id, day, day + DAY);
      if (list.length > 0) events += await projectSiteEvents(tx.analytics, site, list);
    });
    options.onProgress?.({
      phase: 'day',
      day: formatLocal(day, false),
      events: list.length,
      done: i + 1,
      of: days.length,
    });
  }
  return { days: days.length, events };
}
