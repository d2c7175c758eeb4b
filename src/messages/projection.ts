import type { Projection } from '../sink/projection.ts';
import type { MessageWriters } from './store/repositories.ts';

/** Messages are stored as accepted: one row per record, deduplicated by (tenant, key). */
export const messageProjection: Projection<MessageWriters> = {
  stream: 'messages',
  group: 'sink-messages',
  apply: (tx, records) =>
    tx.messages.insert(
      records.map((r) => ({
        tenant: r.tenant,
        key: r.key,
        id: r.id,
        receivedAt: r.receivedAt,
        // A record read from the embedded log carries its body as text, parsed only when asked for:
        // a message is stored as that text and never parsed here.
        payload: r.bodyJson === undefined ? r.body : undefined,
        payloadJson: r.bodyJson,
      })),
    ),
};
