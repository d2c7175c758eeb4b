import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { isoTime } from '../wire/time.ts';
import { countBefore, series, type CountSettings } from './figures.ts';
import { doorwayDays, localDays, sensorHealth, type HealthRules } from './health.ts';
import type { Alert, Doorway, OccupancyEvent, OccupancyEventType, Sensor, Space } from './model.ts';
import type { Notify } from './notify.ts';
import { MINUTE_MS, minuteOf } from './segment.ts';
import type { OccupancyStore, OccupancyWriter } from './store/repositories.ts';

/** What alerts are judged by and how they are delivered; from `occupancy.*` settings. */
export interface AlertRules {
  readonly counts: CountSettings;
  readonly health: HealthRules;
  /** Minutes over capacity before a space alerts, unless it sets its own. */
  readonly capacityAlertMinutes: number;
  /** Attempts per notification before it is given up. */
  readonly maxAttempts: number;
}

/** How long a claimed notification is left to its process before another may send it. */
const LEASE_MS = 60_000;
/** Notifications sent per pass, at most. */
const DELIVERIES_PER_PASS = 100;
const FIRST_RETRY_MS = 1000;
const LAST_RETRY_MS = 300_000;
/** A doorway-day is judged again for drift this long after it last was (late events may tip it). */
const REJUDGE_MS = 3_600_000;
/** Spaces, sensors and doorways are read this many at a time. */
const PAGE = 1000;

/** The wait before the next attempt after `attempts` failed ones: doubling from 1 s to 5 min. */
export const retryDelay = (attempts: number): number =>
  Math.min(LAST_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1));

/** Every row of a listing paged by id. */
async function all<T extends { id: string }>(
  list: (query: { tenant: string; limit: number; after?: string }) => Promise<T[]>,
  tenant: string,
): Promise<T[]> {
  const out: T[] = [];
  for (let after: string | undefined; ;) {
    const page = await list({ tenant, limit: PAGE, ...(after === undefined ? {} : { after }) });
    out.push(...page);
    if (page.length < PAGE) return out;
    after = page.at(-1)!.id;
  }
}

/**
 * Watches a store's spaces, sensors and doorways and raises alerts:
 * - capacity: a space whose corrected count has been over its capacity for the last N minutes (and
 *   still is), closed once it is back within it;
 * - silent: a placed sensor with no event for `silentAfterMinutes` of its space's open time, closed
 *   once it sends again;
 * - drift: a doorway whose people in and out differed beyond the threshold on the previous local day
 *   (a notice, opened and closed at once, one per doorway and day).
 * Each opening and closing writes its notification into the outbox in the same transaction, and
 * deliveries go out from the outbox (with retries and backoff) through `notify`, so an alert is never
 * lost to a crash or an unreachable receiver. On a server database one process at a time evaluates
 * (an advisory lock) and each notification is leased to one process while it is sent.
 */
export class OccupancyAlerts {
  readonly #store: OccupancyStore;
  readonly #rules: AlertRules;
  readonly #notify: Notify;
  readonly #logger: Logger;
  /**
   * When this process last judged each doorway-day: most do not drift, and judging them again is
   * needed only for late events, so each is judged again once an hour.
   */
  readonly #judged = new Map<string, number>();

  constructor(options: { store: OccupancyStore; rules: AlertRules; notify: Notify; logger: Logger }) {
    this.#store = options.store;
    this.#rules = options.rules;
    this.#notify = options.notify;
    this.#logger = options.logger;
  }

  /** Evaluates every tenant's alerts at `now`, then delivers what is due. Returns the notifications queued. */
  async pass(now = Date.now()): Promise<number> {
    let queued = 0;
    for (const tenant of await this.#store.occupancy.tenants()) {
      queued += await this.#store.transaction(async (tx) => {
        if (!(await tx.occupancy.claimAlerting())) return 0;
        return this.#evaluate(tx.occupancy, tenant, now);
      });
    }
    await this.deliver(now);
    return queued;
  }

  /** Sends the notifications due at `now`, recording each attempt. */
  async deliver(now = Date.now()): Promise<void> {
    const due = await this.#store.transaction((tx) =>
      tx.occupancy.claimOutbox(now, LEASE_MS, DELIVERIES_PER_PASS),
    );
    for (const entry of due) {
      let outcome: { deliveredAt: number } | { error: string; retryAt: number | null };
      try {
        await this.#notify(entry.tenant, entry.event);
        outcome = { deliveredAt: Date.now() };
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        const retryAt =
          entry.attempts >= this.#rules.maxAttempts ? null : Date.now() + retryDelay(entry.attempts);
        this.#logger.warn(
          { err, notification: entry.id, type: entry.event.type, attempts: entry.attempts, retryAt },
          retryAt === null
            ? 'occupancy alert notification given up'
            : 'occupancy alert notification failed; will retry',
        );
        outcome = { error, retryAt };
      }
      await this.#store.transaction((tx) => tx.occupancy.settleOutbox(entry.id, outcome));
    }
  }

  async #evaluate(tx: OccupancyWriter, tenant: string, now: number): Promise<number> {
    const open = await tx.openAlerts(tenant);
    const spaces = await tx.allSpaces(tenant);
    const names = new Map(spaces.map((s) => [s.id, s.name]));
    let queued = 0;
    const raise = async (
      alert: Alert,
      type: OccupancyEventType,
      subject: OccupancyEvent['subject'],
      summary: string,
    ) => {
      await tx.openAlert(tenant, alert);
      await this.#enqueue(tx, tenant, now, alert, type, alert.openedAt, subject, summary, names);
      queued += 1;
    };
    const settle = async (
      alert: Alert,
      type: OccupancyEventType,
      subject: OccupancyEvent['subject'],
      summary: string,
    ) => {
      await tx.closeAlert(tenant, alert.id, now);
      await this.#enqueue(tx, tenant, now, alert, type, now, subject, summary, names);
      queued += 1;
    };

    for (const space of spaces) {
      const alert = open.find((a) => a.kind === 'capacity' && a.subject === space.id);
      const capacity = space.capacity ?? null;
      if (capacity === null) {
        if (alert)
          await settle(
            alert,
            'occupancy.capacity.resolved',
            subjectOf(space),
            `${space.name} has no capacity any more`,
          );
        continue;
      }
      const { over, count, minutes, since } = await this.#overCapacity(tx, tenant, space, capacity, now);
      const subject = subjectOf(space);
      if (over && !alert) {
        await raise(
          {
            id: uuidv7(),
            kind: 'capacity',
            subject: space.id,
            space: space.id,
            openedAt: now,
            closedAt: null,
            detail: { capacity, count, minutes, since: isoTime(since) },
          },
          'occupancy.capacity.exceeded',
          subject,
          `${space.name} is over capacity: ${count} of ${capacity} for ${minutes} minutes`,
        );
      } else if (alert && count <= capacity) {
        await settle(
          alert,
          'occupancy.capacity.resolved',
          subject,
          `${space.name} is within capacity again: ${count} of ${capacity}`,
        );
      }
    }

    const sensors = await all<Sensor>((q) => tx.sensors(q), tenant);
    for (const h of await sensorHealth(tx, tenant, sensors, now, this.#rules.health)) {
      const alert = open.find((a) => a.kind === 'silent' && a.subject === h.sensor.id);
      const subject = { kind: 'sensor' as const, id: h.sensor.id, name: h.sensor.name };
      const last = h.lastEventAt === null ? 'never' : isoTime(h.lastEventAt);
      if (h.status === 'silent' && !alert) {
        const hours = Math.round((h.silentForMs ?? 0) / 3_600_000);
        await raise(
          {
            id: uuidv7(),
            kind: 'silent',
            subject: h.sensor.id,
            space: h.space,
            openedAt: now,
            closedAt: null,
            detail: { lastEventAt: last, silentForMs: h.silentForMs, doorway: h.doorway?.id ?? null },
          },
          'occupancy.sensor.silent',
          subject,
          `Sensor ${h.sensor.name} has sent nothing for ${hours} open hours (last event: ${last})`,
        );
      } else if (h.status !== 'silent' && alert) {
        await settle(
          alert,
          'occupancy.sensor.resumed',
          subject,
          `Sensor ${h.sensor.name} sends again (last event: ${last})`,
        );
      }
    }

    const [yesterday] = localDays(this.#rules.health.timeZone, now, 2);
    // Only yesterday is judged: what was kept for the day before goes.
    for (const id of this.#judged.keys()) if (!id.endsWith(`\0${yesterday!.day}`)) this.#judged.delete(id);
    const doorways = await all<Doorway>((q) => tx.doorways(q), tenant);
    const placements = await tx.placementsOn(
      tenant,
      doorways.map((d) => d.id),
    );
    for (const doorway of doorways) {
      const id = `${tenant}\0${doorway.id}\0${yesterday!.day}`;
      if ((this.#judged.get(id) ?? -Infinity) > now - REJUDGE_MS) continue;
      this.#judged.set(id, now);
      const [day] = await doorwayDays(
        tx,
        tenant,
        doorway.id,
        placements,
        [yesterday!],
        now,
        this.#rules.health,
      );
      if (!day!.flagged) continue;
      const seen = await tx.alerts({ tenant, limit: 1, kind: 'drift', subject: doorway.id });
      if (seen[0]?.openedAt === day!.from) continue;
      await raise(
        {
          id: uuidv7(),
          kind: 'drift',
          subject: doorway.id,
          space: doorway.a,
          openedAt: day!.from,
          closedAt: day!.from,
          detail: { day: day!.day, in: day!.in, out: day!.out },
        },
        'occupancy.doorway.drift',
        { kind: 'doorway', id: doorway.id, name: doorway.name },
        `Doorway ${doorway.name} counted ${day!.in} in and ${day!.out} out on ${day!.day}: a sensor may miss crossings; a headcount would correct the count`,
      );
    }
    return queued;
  }

  /**
   * Whether a space's corrected count has been over capacity for the whole of its last N minutes and
   * still is. Judged on whole minutes: the window ends at the start of the current minute.
   */
  async #overCapacity(tx: OccupancyWriter, tenant: string, space: Space, capacity: number, now: number) {
    const minutes = space.alertAfterMinutes ?? this.#rules.capacityAlertMinutes;
    const end = minuteOf(now);
    const since = end - minutes * MINUTE_MS;
    const [window] = await series(
      tx,
      tenant,
      space.id,
      { from: since, to: end, interval: minutes * MINUTE_MS, now, capacity },
      this.#rules.counts,
    );
    const count = (await countBefore(tx, tenant, space.id, now + 1, this.#rules.counts)).corrected;
    return {
      over: window!.overCapacityMs === minutes * MINUTE_MS && count > capacity,
      count,
      minutes,
      since,
    };
  }

  /** Queues the notification of an alert's opening or closing, in the transaction that made it. */
  async #enqueue(
    tx: OccupancyWriter,
    tenant: string,
    now: number,
    alert: Alert,
    type: OccupancyEventType,
    at: number,
    subject: OccupancyEvent['subject'],
    summary: string,
    names: ReadonlyMap<string, string>,
  ): Promise<void> {
    const id = uuidv7();
    const space =
      alert.space === null ? null : { id: alert.space, name: names.get(alert.space) ?? alert.space };
    const event: OccupancyEvent = {
      id,
      type,
      tenant,
      at: isoTime(at),
      alert: alert.id,
      subject,
      space,
      summary,
      detail: alert.detail,
    };
    await tx.enqueue({
      id,
      tenant,
      event,
      createdAt: now,
      attempts: 0,
      deliveredAt: null,
      lastError: null,
      nextAttemptAt: now,
    });
  }
}

const subjectOf = (space: Space) => ({ kind: 'space' as const, id: space.id, name: space.name });

/**
 * Runs alert passes every `intervalMs` until closed, one at a time (a tick that finds a pass still
 * running is skipped); a failed pass is logged and the next one runs.
 */
export function runAlerts(
  alerts: OccupancyAlerts,
  intervalMs: number,
  logger: Logger,
): { close(): Promise<void> } {
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    running ??= alerts
      .pass()
      .catch((err: unknown) => logger.error({ err }, 'occupancy alert pass failed'))
      .finally(() => (running = undefined));
  }, intervalMs);
  timer.unref();
  return {
    close: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
