import type { Projection } from '../sink/projection.ts';

/** Messages are stored as accepted: one row per record, deduplicated by (tenant, key). */
export const messageProjection: Projection = {
  stream: 'messages',
  group: 'sink-messages',
  apply: (tx, records) =>
    tx.messages.insert(
      records.map((r) => ({
        tenant: r.tenant,
        key: r.key,
        id: r.id,
        receivedAt: r.receivedAt,
        payload: r.body,
        payloadJson: r.bodyJson,
      })),
    ),
};
