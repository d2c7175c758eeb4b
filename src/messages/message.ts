/** A stored message, as the list API returns it. */
export interface Message {
  readonly id: string;
  /** Epoch milliseconds when Beacon accepted it. */
  readonly receivedAt: number;
  readonly payload: unknown;
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
}

/** Reads messages; every backend answers the same query with the same rows. */
export interface MessageReader {
  /** Returns up to `limit` messages after the cursor, in (receivedAt, id) order. */
  list(query: MessageQuery): Promise<Message[]>;
  /** Number of messages the tenant has; for tests and operations, not for paging. */
  count(tenant: string): Promise<number>;
  /** The stored message each of these client-chosen keys first named, by key; keys never stored are absent. */
  firstOf(tenant: string, keys: readonly string[]): Promise<Map<string, MessageCursor>>;
}

/** Writes messages inside a store transaction. */
export interface MessageWriter {
  /** Inserts rows whose (tenant, key) is new; returns how many were new. */
  insert(rows: readonly MessageRow[]): Promise<number>;
}
