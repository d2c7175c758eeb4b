import type { Store } from '../../store/store.ts';
import type { Message, MessageCursor, MessageQuery, MessageRow } from '../model.ts';

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

/** The messages wing's members of an opened store. */
export interface MessageRepositories {
  readonly messages: MessageReader;
}

/** The messages wing's members of a store transaction. */
export interface MessageWriters {
  readonly messages: MessageWriter;
}

/** The store as the messages domain sees it: the engine and this wing's repositories. */
export type MessageStore = Store<MessageWriters> & MessageRepositories;
