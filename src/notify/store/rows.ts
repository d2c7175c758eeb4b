import type { Columns } from '../../store/columns.ts';
import type { Channel, ChannelSource } from '../channels.ts';
import type { Notification } from '../notification.ts';
import type { DeliveryState, OutboxRow } from './repositories.ts';

// Times are epoch ms (bigint on PostgreSQL, which the driver returns as text: read with `c.int`).

/** A `notify_channels` row. */
export interface ChannelDbRow {
  readonly tenant: string;
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly url: string;
  readonly template: string | null;
  readonly source: ChannelSource;
  readonly created_at: unknown;
  readonly updated_at: unknown;
}

/** A `notify_outbox` row. */
export interface OutboxDbRow {
  readonly id: unknown;
  readonly tenant: string;
  readonly channel: string;
  readonly key: string;
  readonly notification: string;
  readonly created_at: unknown;
  readonly due_at: unknown;
  readonly state: DeliveryState;
  readonly attempts: number;
  readonly last_attempt_at: unknown;
  readonly sent_at: unknown;
  readonly status: number | null;
  readonly answer: string | null;
  readonly batch_size: number | null;
}

/** The columns of `notify_channels`, in the order `channelValues` gives them. */
export const CHANNEL_COLUMNS = 'tenant, id, name, kind, url, template, source, created_at, updated_at';

/** A stored channel. */
export const toChannel = (r: ChannelDbRow, c: Columns): Channel => ({
  tenant: r.tenant,
  id: r.id,
  name: r.name,
  kind: r.kind,
  url: r.url,
  ...(r.template === null ? {} : { template: r.template }),
  source: r.source,
  createdAt: c.int(r.created_at),
  updatedAt: c.int(r.updated_at),
});

/** A channel's values in `CHANNEL_COLUMNS` order. */
export const channelValues = (ch: Channel): unknown[] => [
  ch.tenant,
  ch.id,
  ch.name,
  ch.kind,
  ch.url,
  ch.template ?? null,
  ch.source,
  ch.createdAt,
  ch.updatedAt,
];

/** The columns of `notify_outbox` a reader selects, in OutboxDbRow's names. */
export const OUTBOX_COLUMNS =
  'id, tenant, channel, key, notification, created_at, due_at, state, attempts, last_attempt_at, sent_at, status, answer, batch_size';

/** The columns `recordValues` fills. */
export const OUTBOX_INSERT_COLUMNS =
  'tenant, channel, key, source, subject, event, notification, created_at, due_at, state, attempts, last_attempt_at, sent_at, status, answer, batch_size';

/** A stored outbox row, its notification parsed. */
export const toOutboxRow = (r: OutboxDbRow, c: Columns): OutboxRow => ({
  id: c.int(r.id),
  tenant: r.tenant,
  channel: r.channel,
  key: r.key,
  notification: JSON.parse(r.notification) as Notification,
  createdAt: c.int(r.created_at),
  dueAt: c.int(r.due_at),
  state: r.state,
  attempts: r.attempts,
  lastAttemptAt: c.intOrNull(r.last_attempt_at),
  sentAt: c.intOrNull(r.sent_at),
  status: r.status,
  answer: r.answer,
  batchSize: r.batch_size,
});

/** A row's values in `OUTBOX_INSERT_COLUMNS` order. */
export const recordValues = (r: Omit<OutboxRow, 'id'>): unknown[] => [
  r.tenant,
  r.channel,
  r.key,
  r.notification.source,
  r.notification.subject,
  r.notification.event,
  JSON.stringify(r.notification),
  r.createdAt,
  r.dueAt,
  r.state,
  r.attempts,
  r.lastAttemptAt,
  r.sentAt,
  r.status,
  r.answer,
  r.batchSize,
];

/**
 * When each (tenant, channel) of `envelopes` that groups should send: the open group's due time, or
 * `now + window`. `open` reads the earliest due time of a channel's rows not yet tried.
 */
export async function dueTimes(
  envelopes: readonly { tenant: string; channel: string; groupWindowMs: number }[],
  now: number,
  open: (tenant: string, channel: string) => Promise<number | null>,
): Promise<number[]> {
  const groups = new Map<string, number>();
  const out: number[] = [];
  for (const e of envelopes) {
    if (e.groupWindowMs <= 0) {
      out.push(now);
      continue;
    }
    const id = `${e.tenant}\u0000${e.channel}`;
    let due = groups.get(id);
    if (due === undefined) {
      const existing = await open(e.tenant, e.channel);
      due = existing !== null && existing > now ? existing : now + e.groupWindowMs;
      groups.set(id, due);
    }
    out.push(due);
  }
  return out;
}
