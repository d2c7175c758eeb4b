import type { DerivedFrame } from '../log/log.ts';
import type { OccupancyEvent } from './model.ts';

/**
 * Where occupancy alerts go: called once per notification in the outbox, with the tenant it belongs
 * to and the event (`OccupancyEvent`, documented in docs/api.md). It resolves once the event is
 * delivered and rejects when it could not be, so the outbox tries again later. The same event can be
 * handed over more than once (after a crash between delivery and bookkeeping): its `id` tells repeats
 * apart. `roles/occupancy-notify.ts` chooses what a running Beacon plugs in here.
 */
export type Notify = (tenant: string, event: OccupancyEvent) => Promise<void>;

/** Every one of `targets`, in turn; the first failure fails the delivery (all are tried again). */
export function notifyAll(...targets: readonly Notify[]): Notify {
  return async (tenant, event) => {
    for (const target of targets) await target(tenant, event);
  };
}

/** Pushes the event to live subscribers of the tenant, as `{type: "alert", …}` on the sensor-events stream. */
export function liveNotify(publish: (frames: readonly DerivedFrame[]) => void): Notify {
  return (tenant, event) => {
    publish([
      {
        tenant,
        stream: 'sensor-events',
        entity: event.space?.id ?? event.subject.id,
        frame: JSON.stringify({ type: 'alert', stream: 'sensor-events', event }),
      },
    ]);
    return Promise.resolve();
  };
}

/** POSTs the event as JSON to `url`; anything but a 2xx answer (or no answer in `timeoutMs`) fails it. */
export function webhookNotify(url: string, timeoutMs = 10_000): Notify {
  return async (_tenant, event) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Beacon occupancy alerts' },
      body: JSON.stringify(event),
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The body is read so the connection can be reused, and for the error message.
    const text = await response.text();
    if (!response.ok) throw new Error(`webhook answered ${response.status}: ${text.slice(0, 200)}`);
  };
}
