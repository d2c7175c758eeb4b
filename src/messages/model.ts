/** A stored message, as the list API returns it. */
export interface Message {
  readonly id: string;
  /** Epoch milliseconds when Beacon accepted it. */
  readonly receivedAt: number;
  readonly payload: unknown;
  /** The size of the payload as stored (characters of its JSON text), when read from the store. */
  readonly bytes?: number;
}

/** One message row as the projection writes it. */
export interface MessageRow extends Message {
  readonly tenant: string;
  readonly key: string;
  /**
   * `payload` as JSON text, when the record already carried it: writers store it instead of encoding
   * `payload` again, and then `payload` may be left undefined.
   */
  readonly payloadJson?: string | undefined;
}

/** A row's payload as JSON text. */
export function payloadJsonOf(row: MessageRow): string {
  return row.payloadJson ?? JSON.stringify(row.payload);
}

/** Keyset position in the (receivedAt, id) order. */
export interface MessageCursor {
  readonly receivedAt: number;
  readonly id: string;
}

export interface MessageQuery {
  readonly tenant: string;
  readonly limit: number;
  readonly after?: MessageCursor;
  /** Inclusive lower bound on receivedAt, epoch ms. */
  readonly from?: number;
  /** Exclusive upper bound on receivedAt, epoch ms. */
  readonly to?: number;
  /**
   * Stop once the messages read hold this much payload: the one that reaches it ends the page, and
   * one more is read so the caller knows whether the listing goes on. So a page of large messages
   * is shorter, never much larger than this.
   */
  readonly maxBytes?: number;
}
