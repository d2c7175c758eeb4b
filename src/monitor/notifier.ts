import type { Logger } from 'pino';
import { newRecord } from '../ingest/records.ts';
import type { LogRecord } from '../log/record.ts';
import { isoTime, isoTimeOrNull } from '../wire/time.ts';
import type { Incident } from './model.ts';
import type { MonitorReader } from './store/repositories.ts';

/** What live subscribers receive when an incident opens or closes. */
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
  readonly pollMs: number;
  readonly logger: Logger;
}

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
 * and announces each to live subscribers of the `checks` stream as `{type: "incident.opened" |
 * "incident.resolved", …}` bodies. Live frames are best effort: it starts from the newest change at
 * start-up. What must reach people goes through alert rules and the notification outbox, which the
 * projection writes in the transaction of the change (`projection.ts`).
 */
export class IncidentNotifier {
  readonly #o: NotifierOptions;
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
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
      this.#seq = changes.at(-1)!.seq;
    }
  }

  close(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }
}
