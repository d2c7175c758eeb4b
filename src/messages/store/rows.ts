import type { Columns } from '../../store/columns.ts';
import type { Message } from '../model.ts';

/** A `messages` row as either driver returns it (received_at as epoch ms). */
export interface MessageDbRow {
  readonly id: string;
  readonly received_at: unknown;
  readonly payload: unknown;
  readonly bytes: unknown;
}

export const toMessage = (r: MessageDbRow, c: Columns): Message => ({
  id: r.id,
  receivedAt: c.int(r.received_at),
  payload: c.json(r.payload),
  bytes: c.int(r.bytes),
});

/**
 * A page's SQL around the statement `page` that selects its rows in order (id, received_at, payload,
 * bytes): keeps the rows that start within `maxBytes` (a parameter) of payload, and the one after
 * them (whose predecessor starts within it), which tells whether the listing goes on. The window
 * runs over the page's rows only, after its LIMIT.
 */
export const withinBytes = (page: string, maxBytes: string) => `
  SELECT id, received_at, payload, bytes FROM (
    SELECT id, received_at, payload, bytes,
           sum(bytes) OVER (ORDER BY received_at, id ROWS BETWEEN UNBOUNDED PRECEDING AND 2 PRECEDING)
             AS before_previous
    FROM (${page}) AS page
  ) AS counted WHERE coalesce(before_previous, 0) < ${maxBytes} ORDER BY received_at, id`;
