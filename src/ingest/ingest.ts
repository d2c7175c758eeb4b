import { uuidv7 } from './ids.ts';
import type { Log } from '../log/log.ts';
import type { Appended, NewRecord, Stream } from '../log/record.ts';
import type { Metrics } from '../observability/metrics.ts';

/** What a route hands to ingest for one signal. */
export interface Signal {
  readonly tenant: string;
  readonly entity: string;
  /** Idempotency key; a new id is used when the client gave none. */
  readonly key?: string | undefined;
  /** Event time; defaults to the time of acceptance. */
  readonly ts?: number | undefined;
  readonly body: unknown;
  /** `body` as JSON, when the route already encoded it. */
  readonly bodyJson?: string | undefined;
}

/**
 * The one way signals enter Beacon: each becomes a record with a UUIDv7 id and a receivedAt, and is
 * appended to the log. The promise resolves only once the log holds them durably.
 */
export class Ingest {
  readonly #log: Log;
  readonly #metrics: Metrics;

  constructor(log: Log, metrics: Metrics) {
    this.#log = log;
    this.#metrics = metrics;
  }

  async accept(stream: Stream, signals: readonly Signal[]): Promise<Appended[]> {
    const receivedAt = Date.now();
    const records: NewRecord[] = signals.map((s) => {
      const id = uuidv7();
      return {
        stream,
        tenant: s.tenant,
        entity: s.entity,
        key: s.key ?? id,
        id,
        ts: s.ts ?? receivedAt,
        receivedAt,
        body: s.body,
        bodyJson: s.bodyJson,
      };
    });
    const appended = await this.#log.append(records);
    let duplicates = 0;
    for (const a of appended) if (a.duplicate) duplicates += 1;
    this.#metrics.accepted.inc({ stream }, appended.length - duplicates);
    if (duplicates > 0) this.#metrics.duplicates.inc({ stream }, duplicates);
    return appended;
  }
}
