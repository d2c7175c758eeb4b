import type { Store } from '../../store/store.ts';
import type { Channel, ChannelSpec } from '../channels.ts';
import type { Envelope, Notification } from '../notification.ts';

/** Where a queued notification stands: waiting (or being sent), told, or given up on. */
export type DeliveryState = 'pending' | 'sent' | 'failed';

/** One notification on its way to one channel, and, once tried, how that went. */
export interface OutboxRow {
  /** Rises in the order rows were queued. */
  readonly id: number;
  readonly tenant: string;
  readonly channel: string;
  readonly key: string;
  readonly notification: Notification;
  readonly createdAt: number;
  /** Not sent before this (the grouping window, or the retry's backoff). */
  readonly dueAt: number;
  readonly state: DeliveryState;
  readonly attempts: number;
  readonly lastAttemptAt: number | null;
  readonly sentAt: number | null;
  /** The service's status of the last attempt (HTTP status, SMTP reply code); null on a network error. */
  readonly status: number | null;
  /** The start of the service's last answer, secrets scrubbed. */
  readonly answer: string | null;
  /** How many notifications the message that carried it held. */
  readonly batchSize: number | null;
}

/** What became of one claimed row after an attempt. */
export interface Settlement {
  readonly id: number;
  readonly state: DeliveryState;
  readonly at: number;
  /** When still pending: when to try again. */
  readonly dueAt: number;
  readonly status: number | null;
  readonly answer: string;
  readonly batchSize: number;
}

/** One page of delivery history, newest first: a tenant's, one subject's or one channel's. */
export interface HistoryQuery {
  readonly tenant: string;
  readonly limit: number;
  readonly source?: string | undefined;
  readonly subject?: string | undefined;
  readonly channel?: string | undefined;
  /** Rows with ids below this (the cursor). */
  readonly before?: number | undefined;
}

/** A tenant's channels: defined by the API or the YAML file. */
export interface ChannelRepository {
  get(tenant: string, id: string): Promise<Channel | undefined>;
  /** In id order, keyset-paged. */
  list(tenant: string, limit: number, after?: string): Promise<Channel[]>;
  /** False when the id is taken. */
  create(channel: Channel): Promise<boolean>;
  update(tenant: string, id: string, spec: ChannelSpec, kind: string, at: number): Promise<boolean>;
  delete(tenant: string, id: string): Promise<boolean>;
  /** Makes the file's channels exactly `channels`, in one transaction; API channels are untouched. */
  replaceFileChannels(channels: readonly Channel[]): Promise<{ upserted: number; deleted: number }>;
}

/** The outbox as delivery workers use it, outside sink transactions. */
export interface OutboxRepository {
  /**
   * Leases up to `limit` due rows to `owner` until `now + leaseMs`, counting an attempt for each; rows
   * another worker holds, and rows of a channel paused by its service, are skipped. Atomic in the
   * store, so two processes never hold the same row at once.
   */
  claim(options: { now: number; owner: string; leaseMs: number; limit: number }): Promise<OutboxRow[]>;
  /** Records attempts' outcomes, for the rows `owner` still holds (a lease taken over is left alone). */
  settle(owner: string, settlements: readonly Settlement[]): Promise<void>;
  /** Holds back every row of a channel until `until` (its service said to wait). */
  pause(tenant: string, channel: string, until: number): Promise<void>;
  /** A row written as already tried (a test send), so it shows in the history. */
  record(row: Omit<OutboxRow, 'id'>): Promise<void>;
  history(query: HistoryQuery): Promise<OutboxRow[]>;
  /** Rows no longer pending and queued before `before` are deleted; returns how many. */
  prune(before: number): Promise<number>;
  /** Rows waiting, and how many of them are due at `now`. */
  backlog(now: number): Promise<{ pending: number; due: number }>;
}

/** Queues notifications inside a domain's store transaction. */
export interface NotificationWriter {
  /**
   * Queues each envelope unless its (tenant, channel, key) is queued already; returns how many were
   * new. An envelope with a grouping window joins the open group of its channel (rows not yet due)
   * or opens one due `groupWindowMs` after `now`.
   */
  enqueue(envelopes: readonly Envelope[], now: number): Promise<number>;
}

/** The notify wing's members of an opened store. */
export interface NotifyRepositories {
  readonly channels: ChannelRepository;
  readonly outbox: OutboxRepository;
}

/** The notify wing's members of a store transaction. */
export interface NotifyWriters {
  readonly notifications: NotificationWriter;
}

/** The store as the notify engine sees it. */
export type NotifyStore = Store<NotifyWriters> & NotifyRepositories;
