import type { Log } from '../log/log.ts';
import type { Appended, Stream } from '../log/record.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { KeyIndex } from './key-index.ts';
import { newRecord, type Signal } from './records.ts';

export type { Signal } from './records.ts';

/**
 * The one way signals enter Beacon: each becomes a record with a UUIDv7 id and a receivedAt, and is
 * appended to the log. The promise resolves only once the log holds them durably.
 *
 * With a key index (on a log that cannot check keys itself), a signal whose key the store already
 * holds is answered from the store, as a duplicate, and not appended again. A retry still within the
 * sink's lag is appended once more; the sink's unique key then drops it.
 */
export class Ingest {
  readonly #log: Log;
  readonly #metrics: Metrics;
  readonly #keys: KeyIndex | undefined;

  constructor(log: Log, metrics: Metrics, keys?: KeyIndex) {
    this.#log = log;
    this.#metrics = metrics;
    this.#keys = keys;
  }

  async accept(stream: Stream, signals: readonly Signal[]): Promise<Appended[]> {
    const keys = this.#keys;
    if (!keys?.streams.has(stream)) return this.#append(stream, signals);
    const tenant = signals[0]?.tenant;
    const keyed = signals.flatMap((s) => (s.key === undefined || s.tenant !== tenant ? [] : [s.key]));
    if (tenant === undefined || keyed.length === 0) return this.#append(stream, signals);
    const stored = await keys.firstOf(stream, tenant, keyed);
    if (stored.size === 0) return this.#append(stream, signals);
    const isStored = (s: Signal) => s.tenant === tenant && s.key !== undefined && stored.has(s.key);
    this.#metrics.duplicates.inc({ stream }, signals.filter(isStored).length);
    const fresh = signals.filter((s) => !isStored(s));
    const appended = fresh.length > 0 ? await this.#append(stream, fresh) : [];
    let next = 0;
    return signals.map((s) =>
      isStored(s) ? { ...stored.get(s.key!)!, duplicate: true } : appended[next++]!,
    );
  }

  async #append(stream: Stream, signals: readonly Signal[]): Promise<Appended[]> {
    const receivedAt = Date.now();
    const records = signals.map((s) => newRecord(stream, s, receivedAt));
    const appended = await this.#log.append(records);
    let duplicates = 0;
    for (const a of appended) if (a.duplicate) duplicates += 1;
    this.#metrics.accepted.inc({ stream }, appended.length - duplicates);
    if (duplicates > 0) this.#metrics.duplicates.inc({ stream }, duplicates);
    return appended;
  }
}
