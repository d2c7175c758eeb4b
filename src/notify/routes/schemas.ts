import Type from 'typebox';
import { errorResponses, IsoTime } from '../../http/schemas.ts';
import { decodeCursor, page } from '../../wire/cursor.ts';
import { isoTime, isoTimeOrNull } from '../../wire/time.ts';
import { SEVERITIES } from '../notification.ts';
import type { HistoryQuery, OutboxRepository, OutboxRow } from '../store/repositories.ts';

/** A wire time that may be null. */
const NullableIso = (description: string) => Type.Union([IsoTime(description), Type.Null()]);

/** One notification to one channel and how its delivery went (`#/components/schemas/Delivery`). */
export const DeliveryView = Type.Object(
  {
    id: Type.Integer({ description: 'Rises in the order notifications were queued.' }),
    channel: Type.String(),
    source: Type.String({
      description: 'What raised it: monitor, or test (a send from /v1/channels/:id/test).',
    }),
    subject: Type.String({ description: 'What it is about (a target id).' }),
    event: Type.String({
      description: 'target.down, target.up, target.reminder, target.degraded, certificate.expiring…',
    }),
    severity: Type.Enum(SEVERITIES),
    title: Type.String(),
    text: Type.String(),
    queuedAt: IsoTime('When the change was stored and the notification queued.'),
    state: Type.Union([Type.Literal('pending'), Type.Literal('sent'), Type.Literal('failed')]),
    attempts: Type.Integer(),
    nextAttemptAt: NullableIso('When a pending notification is tried (again).'),
    lastAttemptAt: NullableIso('When it was last tried.'),
    sentAt: NullableIso('When the service accepted it.'),
    status: Type.Union([Type.Integer(), Type.Null()], {
      description:
        "The service's status for the last attempt (HTTP status, SMTP reply); null on a network error.",
    }),
    answer: Type.Union([Type.String(), Type.Null()], {
      description: "The start of the service's answer, secrets removed.",
    }),
    batchSize: Type.Union([Type.Integer(), Type.Null()], {
      description: 'How many notifications the message that carried it held (grouping).',
    }),
  },
  { $id: 'Delivery' },
);

/** A stored outbox row as `DeliveryView` shows it. */
export const deliveryView = (r: OutboxRow) => ({
  id: r.id,
  channel: r.channel,
  source: r.notification.source,
  subject: r.notification.subject,
  event: r.notification.event,
  severity: r.notification.severity,
  title: r.notification.title,
  text: r.notification.text,
  queuedAt: isoTime(r.createdAt),
  state: r.state,
  attempts: r.attempts,
  nextAttemptAt: r.state === 'pending' ? isoTime(r.dueAt) : null,
  lastAttemptAt: isoTimeOrNull(r.lastAttemptAt),
  sentAt: isoTimeOrNull(r.sentAt),
  status: r.status,
  answer: r.answer,
  batchSize: r.batchSize,
});

/** The query of a delivery history (a channel's or a subject's): newest first, by cursor. */
export const DeliveryPageQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  after: Type.Optional(Type.String({ description: 'The `next` cursor of the previous page.' })),
});

/** The answers of a delivery history route. */
export const deliveryPageResponses = {
  200: Type.Object({
    items: Type.Array(Type.Ref('Delivery')),
    next: Type.Union([Type.String(), Type.Null()]),
  }),
  ...errorResponses(400, 401, 403, 404, 429),
};

/** One page of the outbox's history for `filter`, as the delivery routes answer it. */
export async function deliveryPage(
  outbox: Pick<OutboxRepository, 'history'>,
  filter: Omit<HistoryQuery, 'limit' | 'before'>,
  query: { readonly limit: number; readonly after?: string | undefined },
) {
  const before = query.after === undefined ? undefined : decodeCursor(query.after, ['number'] as const)[0];
  const rows = await outbox.history({ ...filter, limit: query.limit + 1, before });
  return page(rows, query.limit, (r) => [r.id], deliveryView);
}
