import type { LogRecord, Stream } from '../log/record.ts';
import type { Metrics } from '../observability/metrics.ts';

/** The part of a WebSocket the hub uses (ws's WebSocket fits). */
export interface SubscriberSocket {
  readonly bufferedAmount: number;
  readonly readyState: number;
  /** ws's `send`: a Buffer with `binary: false` goes out as a text frame without being re-encoded. */
  send(data: Buffer, options: { binary: false }): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  ping(): void;
}

export interface SubscriberFilter {
  readonly tenant: string;
  readonly streams: ReadonlySet<Stream>;
  /** Only records about this entity (a target, site, space…), when set. */
  readonly entity?: string | undefined;
}

export interface HubOptions {
  /** Bytes a subscriber may have unsent before frames to it are dropped. */
  readonly bufferBytes: number;
  readonly slowPolicy: 'drop' | 'disconnect';
  readonly metrics: Metrics;
  /** Longest stretch one delivery round may hold the event loop before it yields to ingest. */
  readonly sliceMs?: number;
}

const OPEN = 1;
const CLOSED = 3;
/** 1013 "try again later": the standard close code for a peer that cannot keep up. */
const CLOSE_TOO_SLOW = 1013;

class Subscriber {
  readonly socket: SubscriberSocket;
  readonly filter: SubscriberFilter;
  dropped = 0;
  alive = true;
  constructor(socket: SubscriberSocket, filter: SubscriberFilter) {
    this.socket = socket;
    this.filter = filter;
  }
}

/** The frame every subscriber of a record gets; built and UTF-8 encoded once per record. */
export function recordFrame(record: LogRecord): Buffer {
  return Buffer.from(
    JSON.stringify({
      type: 'record',
      stream: record.stream,
      tenant: record.tenant,
      entity: record.entity,
      id: record.id,
      ts: new Date(record.ts).toISOString(),
      receivedAt: new Date(record.receivedAt).toISOString(),
      body: record.body,
    }),
  );
}

const TEXT = { binary: false } as const;
const DEFAULT_SLICE_MS = 10;
/** Sends between clock reads while delivering. */
const SENDS_PER_CLOCK_READ = 128;

/** A record on its way out: its frame and the subscribers still to be written. */
interface Delivery {
  readonly record: LogRecord;
  readonly subscribers: readonly Subscriber[];
  frame: Buffer | undefined;
  next: number;
}

/**
 * Fans accepted records out to WebSocket subscribers, filtered by tenant, stream and entity. Publishing
 * only queues; delivery happens on a later turn so ingest never waits for it. A subscriber whose unsent
 * bytes pass the bound loses frames (and is told how many) or is disconnected, per policy; it never
 * holds up anyone else.
 */
export class LiveHub {
  readonly #options: HubOptions;
  readonly #byTenant = new Map<string, Set<Subscriber>>();
  readonly #bySocket = new Map<SubscriberSocket, Subscriber>();
  readonly #queue: Delivery[] = [];
  #scheduled = false;

  constructor(options: HubOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#bySocket.size;
  }

  subscribe(socket: SubscriberSocket, filter: SubscriberFilter): void {
    const sub = new Subscriber(socket, filter);
    let set = this.#byTenant.get(filter.tenant);
    if (!set) this.#byTenant.set(filter.tenant, (set = new Set()));
    set.add(sub);
    this.#bySocket.set(socket, sub);
    this.#options.metrics.subscribers.set(this.#bySocket.size);
  }

  unsubscribe(socket: SubscriberSocket): void {
    const sub = this.#bySocket.get(socket);
    if (!sub) return;
    this.#bySocket.delete(socket);
    const set = this.#byTenant.get(sub.filter.tenant);
    set?.delete(sub);
    if (set?.size === 0) this.#byTenant.delete(sub.filter.tenant);
    this.#options.metrics.subscribers.set(this.#bySocket.size);
  }

  /** A subscriber answered a ping. */
  pong(socket: SubscriberSocket): void {
    const sub = this.#bySocket.get(socket);
    if (sub) sub.alive = true;
  }

  /**
   * Queues records for delivery; returns at once. Each record goes to the subscribers present now, in
   * order; delivery runs in rounds of at most `sliceMs` so that a large fleet never holds up ingest.
   */
  publish(records: readonly LogRecord[]): void {
    if (this.#bySocket.size === 0) return;
    for (const record of records) {
      const subs = this.#byTenant.get(record.tenant);
      if (!subs) continue;
      const matching: Subscriber[] = [];
      for (const sub of subs) {
        const { streams, entity } = sub.filter;
        if (streams.has(record.stream) && (entity === undefined || entity === record.entity))
          matching.push(sub);
      }
      if (matching.length > 0) this.#queue.push({ record, subscribers: matching, frame: undefined, next: 0 });
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#queue.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => this.#deliver(this.#options.sliceMs ?? DEFAULT_SLICE_MS));
  }

  /** Writes queued frames until the queue is empty or `budgetMs` has passed, then yields. */
  #deliver(budgetMs: number): void {
    this.#scheduled = false;
    const deadline = performance.now() + budgetMs;
    let sends = 0;
    while (this.#queue.length > 0) {
      const delivery = this.#queue[0]!;
      delivery.frame ??= recordFrame(delivery.record);
      const { subscribers, frame } = delivery;
      while (delivery.next < subscribers.length) {
        this.#send(subscribers[delivery.next++]!, frame);
        if (++sends % SENDS_PER_CLOCK_READ === 0 && performance.now() > deadline) {
          this.#schedule();
          return;
        }
      }
      this.#queue.shift();
      this.#options.metrics.fanoutSeconds.observe(
        Math.max(0, Date.now() - delivery.record.receivedAt) / 1000,
      );
    }
  }

  #send(sub: Subscriber, frame: Buffer): void {
    const { socket } = sub;
    if (socket.readyState !== OPEN) return;
    // A frame larger than the whole bound still goes to a subscriber that has nothing pending.
    if (socket.bufferedAmount > 0 && socket.bufferedAmount + frame.length > this.#options.bufferBytes) {
      if (this.#options.slowPolicy === 'disconnect') {
        this.#options.metrics.slowDisconnects.inc();
        this.unsubscribe(socket);
        socket.close(CLOSE_TOO_SLOW, 'subscriber too slow');
        return;
      }
      sub.dropped += 1;
      this.#options.metrics.framesDropped.inc();
      return;
    }
    if (sub.dropped > 0) {
      socket.send(Buffer.from(JSON.stringify({ type: 'dropped', count: sub.dropped })), TEXT);
      sub.dropped = 0;
    }
    socket.send(frame, TEXT);
    this.#options.metrics.framesSent.inc();
  }

  /** Pings every subscriber; one that did not answer the previous ping is terminated. */
  heartbeat(): void {
    for (const sub of [...this.#bySocket.values()]) {
      if (!sub.alive) {
        this.unsubscribe(sub.socket);
        sub.socket.terminate();
        continue;
      }
      sub.alive = false;
      sub.socket.ping();
    }
  }

  /**
   * Closes every subscriber with 1001 (going away), for shutdown. A peer that has not finished the
   * closing handshake within `graceMs` (a stalled reader) is terminated, so it cannot hold up shutdown.
   */
  async close(graceMs = 1000): Promise<void> {
    this.#deliver(Infinity);
    const sockets = [...this.#bySocket.keys()];
    for (const socket of sockets) {
      this.unsubscribe(socket);
      socket.close(1001, 'server shutting down');
    }
    if (sockets.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, graceMs));
    for (const socket of sockets) if (socket.readyState !== CLOSED) socket.terminate();
  }
}
