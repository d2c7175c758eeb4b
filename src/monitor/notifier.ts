import type { Logger } from 'pino';
import { newRecord } from '../ingest/records.ts';
import type { LogRecord } from '../log/record.ts';
import { isoTime, isoTimeOrNull } from '../wire/time.ts';
import type { Incident } from './model.ts';
import type { MonitorReader } from './store/repositories.ts';
import type { MonitorMetrics } from './metrics.ts';

/** What subscribers and webhooks receive when an incident opens or closes. */
export interface IncidentEvent {
  readonly type: 'incident.opened' | 'incident.resolved';
  readonly tenant: string;
  readonly target: string;
  readonly region: string;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly cause: string;
  readonly detail: string;
}

export interface NotifierOptions {
  readonly reader: MonitorReader;
  /** Pushes a frame to live subscribers (the hub). */
  readonly publish: (records: readonly LogRecord[]) => void;
  readonly webhookUrl: string | undefined;
  readonly maxAttempts: number;
  /** First retry delay; doubles per attempt, capped at a minute. */
  readonly backoffMs: number;
  readonly pollMs: number;
  readonly metrics: MonitorMetrics;
  readonly logger: Logger;
}

const MAX_QUEUE = 10_000;
const MAX_BACKOFF_MS = 60_000;
const POST_TIMEOUT_MS = 10_000;

/** The event an incident's latest change makes: opened while it has no end, else resolved. */
export function incidentEvent(i: Incident): IncidentEvent {
  return {
    type: i.endedAt === null ? 'incident.opened' : 'incident.resolved',
    tenant: i.tenant,
    target: i.target,
    region: i.region,
    startedAt: isoTime(i.startedAt),
    endedAt: isoTimeOrNull(i.endedAt),
    cause: i.cause,
    detail: i.detail,
  };
}

/**
 * Follows incident changes in the store (the projection makes them, in whichever process sinks run)
 * and announces each: to live subscribers of the `checks` stream as `{type: "incident.opened" |
 * "incident.resolved", …}` bodies, and to the webhook as a JSON POST, retried with exponential
 * backoff. Delivery runs apart from the prober, so a slow or failing webhook never delays a check.
 * It starts from the newest change at start-up: changes made while no notifier ran are not re-sent.
 */
export class IncidentNotifier {
  readonly #o: NotifierOptions;
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  #queue: { event: IncidentEvent; attempt: number }[] = [];
  #delivering: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #stopped = false;

  constructor(options: NotifierOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    this.#seq = await this.#o.reader.lastIncidentSeq();
    const loop = () => {
      this.#timer = setTimeout(() => {
        this.#poll()
          .catch((err: unknown) => this.#o.logger.error({ err }, 'reading incident changes failed'))
          .finally(() => !this.#stopped && loop());
      }, this.#o.pollMs);
    };
    loop();
  }

  async #poll(): Promise<void> {
    for (;;) {
      const changes = await this.#o.reader.incidentChanges(this.#seq, 500);
      if (changes.length === 0) return;
      const now = Date.now();
      this.#o.publish(
        changes.map((c) => {
          const event = incidentEvent(c);
          // An incident change is its own identity: its id says which change it is.
          const id = `incident:${c.target}@${c.region}@${c.startedAt}:${c.seq}`;
          const signal = { tenant: c.tenant, entity: c.target, ts: c.endedAt ?? c.startedAt, body: event };
          return { ...newRecord('checks', signal, now, id), partition: 0, offset: -1 };
        }),
      );
      if (this.#o.webhookUrl !== undefined) for (const c of changes) this.#enqueue(incidentEvent(c));
      this.#seq = changes.at(-1)!.seq;
    }
  }

  #enqueue(event: IncidentEvent): void {
    if (this.#queue.length >= MAX_QUEUE) {
      this.#queue.shift();
      this.#o.metrics.webhooks.inc({ outcome: 'dropped' });
      this.#o.logger.error('webhook queue full: oldest incident notification dropped');
    }
    this.#queue.push({ event, attempt: 0 });
    this.#delivering ??= this.#deliver().finally(() => (this.#delivering = undefined));
  }

  async #deliver(): Promise<void> {
    while (!this.#stopped && this.#queue.length > 0) {
      const item = this.#queue[0]!;
      if (item.attempt > 0) {
        const wait = Math.min(MAX_BACKOFF_MS, this.#o.backoffMs * 2 ** (item.attempt - 1));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        if (this.#stopped) return;
      }
      item.attempt += 1;
      const failure = await this.#post(item.event);
      if (failure === undefined) {
        this.#queue.shift();
        this.#o.metrics.webhooks.inc({ outcome: 'delivered' });
      } else if (item.attempt >= this.#o.maxAttempts) {
        this.#queue.shift();
        this.#o.metrics.webhooks.inc({ outcome: 'failed' });
        this.#o.logger.error({ failure, event: item.event }, 'incident webhook failed; giving up');
      } else {
        this.#o.metrics.webhooks.inc({ outcome: 'retried' });
        this.#o.logger.warn({ failure, attempt: item.attempt }, 'incident webhook failed; retrying');
      }
    }
  }

  /** Posts one event; returns why it failed, or undefined on a 2xx. */
  async #post(event: IncidentEvent): Promise<string | undefined> {
    try {
      const res = await fetch(this.#o.webhookUrl!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'Beacon-Monitor/1' },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(POST_TIMEOUT_MS),
      });
      await res.body?.cancel();
      return res.ok ? undefined : `status ${res.status}`;
    } catch (err) {
      return (err as Error).message;
    }
  }

  async close(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#wake?.();
    await this.#delivering;
  }
}
