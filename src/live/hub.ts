import type { LogRecord, Stream } from '../log/record.ts';
import type { Metrics } from '../observability/metrics.ts';

/** The part of a WebSocket the hub uses (ws's WebSocket fits). */
export interface SubscriberSocket {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string): void;
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

/** The frame every subscriber of a record gets; built once per record, not per subscriber. */
export function recordFrame(record: LogRecord): string {
  return JSON.stringify({
    type: 'record',
    stream: record.stream,
    tenant: record.tenant,
    entity: record.entity,
    id: record.id,
    ts: new Date(record.ts).toISOString(),
    receivedAt: new Date(record.receivedAt).toISOString(),
    body: record.body,
  });
}

/** A frame derived from records (a space's new count, say), pushed to subscribers of its stream and entity. */
export interface DerivedFrame {
  readonly tenant: string;
  readonly stream: Stream;
  readonly entity: string;
  /** The serialized JSON frame. */
  readonly frame: string;
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
  #pending: LogRecord[] = [];
  #derived: DerivedFrame[] = [];
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

  /** Queues records for delivery; returns at once. */
  publish(records: readonly LogRecord[]): void {
    if (this.#bySocket.size === 0) return;
    for (const r of records) this.#pending.push(r);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#deliver());
    }
  }

  /** Queues derived frames (projections publish them once their rows commit); returns at once. */
  publishDerived(frames: readonly DerivedFrame[]): void {
    if (this.#bySocket.size === 0) return;
    for (const f of frames) this.#derived.push(f);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#deliver());
    }
  }

  #deliver(): void {
    this.#scheduled = false;
    const records = this.#pending;
    this.#pending = [];
    const derived = this.#derived;
    this.#derived = [];
    for (const d of derived) {
      for (const sub of this.#byTenant.get(d.tenant) ?? []) {
        const { streams, entity } = sub.filter;
        if (streams.has(d.stream) && (entity === undefined || entity === d.entity)) this.#send(sub, d.frame);
      }
    }
    for (const record of records) {
      const subs = this.#byTenant.get(record.tenant);
      if (!subs) continue;
      let frame: string | undefined;
      for (const sub of subs) {
        const { streams, entity } = sub.filter;
        if (!streams.has(record.stream) || (entity !== undefined && entity !== record.entity)) continue;
        frame ??= recordFrame(record);
        this.#send(sub, frame);
      }
    }
  }

  #send(sub: Subscriber, frame: string): void {
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
      socket.send(JSON.stringify({ type: 'dropped', count: sub.dropped }));
      sub.dropped = 0;
    }
    socket.send(frame);
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
    this.#deliver();
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
