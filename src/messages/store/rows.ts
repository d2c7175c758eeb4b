import type { Columns } from '../../store/columns.ts';
import type { Message } from '../model.ts';

/** A `messages` row as either driver returns it (received_at as epoch ms). */
export interface MessageDbRow {
  readonly id: string;
  readonly received_at: unknown;
  readonly payload: unknown;
}

export const toMessage = (r: MessageDbRow, c: Columns): Message => ({
  id: r.id,
  receivedAt: c.int(r.received_at),
  payload: c.json(r.payload),
});
