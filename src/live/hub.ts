import type { DerivedFrame } from '../log/log.ts';
import { bodyJsonOf, type LogRecord, type Stream } from '../log/record.ts';
import { isoTime } from '../wire/time.ts';
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
  /** Told of a record whose frame could not be built (it is dropped, and counted). */
  readonly onError?: (err: unknown, record: LogRecord) => void;
  /** Told the number of subscribers whenever it changes (the sink thread computes live counts only for someone). */
  readonly onSubscribers?: (count: number) => void;
}

const OPEN = 1;
const CLOSED = 3;
/** 1013 "try again later": the standard close code for a peer that cannot keep up. */
const CLOSE_TOO_SLOW = 1013;

/** Lets the hub put several frames into one write (a TCP socket's cork/uncork). */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

class Subscriber {
  readonly socket: SubscriberSocket;
  readonly filter: SubscriberFilter;
  readonly raw: Corkable | undefined;
  /** Frames waiting for this subscriber's next turn, and when the oldest was accepted. */
  outbox: Buffer[] = [];
  oldest = 0;
  dropped = 0;
  alive = true;
  constructor(socket: SubscriberSocket, filter: SubscriberFilter, raw: Corkable | undefined) {
    this.socket = socket;
    this.filter = filter;
    this.raw = raw;
  }
}

/**
 * The frame every subscriber of a record gets; built and UTF-8 encoded once per record. The body is
 * spliced in as the JSON the record carries, not encoded again.
 */
export function recordFrame(record: LogRecord): Buffer {
  const head = JSON.stringify({
    type: 'record',
    stream: record.stream,
    tenant: record.tenant,
    entity: record.entity,
    id: record.id,
    ts: isoTime(record.ts),
    receivedAt: isoTime(record.receivedAt),
  });
  return Buffer.from(`${head.slice(0, -1)},"body":${bodyJsonOf(record)}}`);
}

/** What a subscriber gets in place of a record whose frame could not be built. */
const UNENCODABLE = Buffer.from(JSON.stringify({ type: 'dropped', count: 1, reason: 'unencodable' }));

const TEXT = { binary: false } as const;
const DEFAULT_SLICE_MS = 10;
/** Subscribers served between clock reads while delivering. */
const FLUSHES_PER_CLOCK_READ = 64;

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
  /** Subscribers with frames in their outbox, in the order they got their first one. */
  #ready: Subscriber[] = [];
  #readyAt = 0;
  #scheduled = false;

  constructor(options: HubOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#bySocket.size;
  }

  /** @param raw the connection under the WebSocket, when reachable, so a turn's frames go in one write. */
  subscribe(socket: SubscriberSocket, filter: SubscriberFilter, raw?: Corkable): void {
    const sub = new Subscriber(socket, filter, raw);
    let set = this.#byTenant.get(filter.tenant);
    if (!set) this.#byTenant.set(filter.tenant, (set = new Set()));
    set.add(sub);
    this.#bySocket.set(socket, sub);
    this.#options.metrics.subscribers.set(this.#bySocket.size);
    this.#options.onSubscribers?.(this.#bySocket.size);
  }

  unsubscribe(socket: SubscriberSocket): void {
    const sub = this.#bySocket.get(socket);
    if (!sub) return;
    sub.outbox = [];
    this.#bySocket.delete(socket);
    const set = this.#byTenant.get(sub.filter.tenant);
    set?.delete(sub);
    if (set?.size === 0) this.#byTenant.delete(sub.filter.tenant);
    this.#options.metrics.subscribers.set(this.#bySocket.size);
    this.#options.onSubscribers?.(this.#bySocket.size);
  }

  /** A subscriber answered a ping. */
  pong(socket: SubscriberSocket): void {
    const sub = this.#bySocket.get(socket);
    if (sub) sub.alive = true;
  }

  /**
   * Queues records for delivery; returns at once. Each record's frame is encoded once and put in the
   * outbox of every subscriber it matches. Delivery serves subscribers in rounds of at most `sliceMs`,
   * so a large fleet never holds up ingest; when it falls behind, a subscriber's next turn carries all
   * its waiting frames in one write, so the cost per frame falls just when the load rises.
   */
  publish(records: readonly LogRecord[]): void {
    if (this.#bySocket.size === 0) return;
    for (const record of records) {
      const subs = this.#byTenant.get(record.tenant);
      if (!subs) continue;
      let frame: Buffer | undefined;
      for (const sub of subs) {
        const { streams, entity } = sub.filter;
        if (!streams.has(record.stream) || (entity !== undefined && entity !== record.entity)) continue;
        frame ??= this.#frame(record);
        if (sub.outbox.length === 0) {
          sub.oldest = record.receivedAt;
          this.#ready.push(sub);
        }
        sub.outbox.push(frame);
      }
    }
    this.#schedule();
  }

  /**
   * A record's frame. One that cannot be built fails alone: its subscribers are told it was dropped,
   * and every other record of the commit is delivered.
   */
  #frame(record: LogRecord): Buffer {
    try {
      return recordFrame(record);
    } catch (err) {
      this.#options.metrics.framesUnencodable.inc();
      this.#options.onError?.(err, record);
      return UNENCODABLE;
    }
  }

  /** Queues derived frames (projections publish them once their rows commit), like `publish`. */
  publishDerived(frames: readonly DerivedFrame[]): void {
    if (this.#bySocket.size === 0) return;
    const now = Date.now();
    for (const derived of frames) {
      let frame: Buffer | undefined;
      for (const sub of this.#byTenant.get(derived.tenant) ?? []) {
        const { streams, entity } = sub.filter;
        if (!streams.has(derived.stream) || (entity !== undefined && entity !== derived.entity)) continue;
        frame ??= Buffer.from(derived.frame);
        if (sub.outbox.length === 0) {
          sub.oldest = now;
          this.#ready.push(sub);
        }
        sub.outbox.push(frame);
      }
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#readyAt >= this.#ready.length) return;
    this.#scheduled = true;
    setImmediate(() => this.#deliver(this.#options.sliceMs ?? DEFAULT_SLICE_MS));
  }

  /** Serves subscribers with waiting frames until none is left or `budgetMs` has passed, then yields. */
  #deliver(budgetMs: number): void {
    this.#scheduled = false;
    const deadline = performance.now() + budgetMs;
    let served = 0;
    while (this.#readyAt < this.#ready.length) {
      this.#flush(this.#ready[this.#readyAt++]!);
      if (++served % FLUSHES_PER_CLOCK_READ === 0 && performance.now() > deadline) break;
    }
    if (this.#readyAt >= this.#ready.length) {
      this.#ready = [];
      this.#readyAt = 0;
    } else if (this.#readyAt > 4096) {
      this.#ready = this.#ready.slice(this.#readyAt);
      this.#readyAt = 0;
    }
    this.#schedule();
  }

  /**
   * Writes a subscriber's waiting frames, corked into one write where the socket allows. Frames
   * corked in this turn do not count against the bound; what the kernel refused from earlier turns
   * does. A turn that corks more than the bound is pushed out in parts, so the bound stays honest.
   */
  #flush(sub: Subscriber): void {
    const frames = sub.outbox;
    if (frames.length === 0) return;
    sub.outbox = [];
    const { socket, raw } = sub;
    if (socket.readyState !== OPEN) return;
    raw?.cork();
    let corked = 0;
    for (const frame of frames) {
      if (raw && corked > this.#options.bufferBytes) {
        raw.uncork();
        raw.cork();
        corked = 0;
      }
      const before = socket.bufferedAmount;
      this.#send(sub, frame, raw ? corked : 0);
      corked += socket.bufferedAmount - before;
    }
    raw?.uncork();
    this.#options.metrics.fanoutSeconds.observe(Math.max(0, Date.now() - sub.oldest) / 1000);
  }

  /** Sends one frame, or drops it if the subscriber's unsent bytes (less `corked`) pass the bound. */
  #send(sub: Subscriber, frame: Buffer, corked: number): void {
    const { socket } = sub;
    if (socket.readyState !== OPEN) return;
    const unsent = socket.bufferedAmount - corked;
    // A frame larger than the whole bound still goes to a subscriber that has nothing pending.
    if (unsent > 0 && unsent + frame.length > this.#options.bufferBytes) {
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
