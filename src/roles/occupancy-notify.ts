import type { Config } from '../config/schema.ts';
import type { Log } from '../log/log.ts';
import { liveNotify, notifyAll, webhookNotify, type Notify } from '../occupancy/notify.ts';

/**
 * Where a running Beacon sends occupancy alerts: the live stream (`{type: "alert"}` frames on
 * sensor-events, through the log so every process serving the stream has them) and, when
 * `occupancy.alertWebhookUrl` is set, that webhook. This is the one place
 * to plug occupancy alerts into other notification channels: anything of the `Notify` shape
 * (`notify(tenant, event)`, resolving once delivered) can be returned here, and the outbox keeps
 * retrying through it.
 */
export function occupancyNotify(config: Readonly<Config>, log: Log): Notify {
  const live = liveNotify((frames) => log.publishDerived(frames));
  const url = config.occupancy.alertWebhookUrl;
  return url === undefined ? live : notifyAll(live, webhookNotify(url));
}
