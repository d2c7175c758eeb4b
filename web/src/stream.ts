/** What the live connection is doing, as the status pill shows it. */
export type StreamStatus = 'connecting' | 'live' | 'reconnecting' | 'offline';

/** `{type: "record"}`: one accepted record, pushed the moment it is accepted. */
export interface RecordFrame {
  readonly type: 'record';
  readonly stream: string;
  readonly tenant: string;
  readonly entity: string;
  readonly id: string;
  readonly ts: string;
  readonly receivedAt: string;
  readonly body: unknown;
}

export interface StreamListener {
  /** The status changed; `attempt` counts reconnection attempts since the last good connection. */
  status(status: StreamStatus, attempt: number): void;
  /** A connection opened. `reconnected` is false only for the first one: anything after it may have been missed. */
  opened(reconnected: boolean): void;
  /** A connection attempt ended before it opened (the server down, or refusing the upgrade). */
  failed(attempt: number): void;
  record(frame: RecordFrame): void;
  /** The server skipped `count` frames because this client read too slowly. */
  dropped(count: number): void;
  /** The server refused the token (close 1008); the stream stops. */
  rejected(reason: string): void;
  /** Any other frame type (`count`, say), for pages that want it. */
  other?(frame: Readonly<Record<string, unknown>>): void;
}

export interface StreamOptions {
  readonly token: string;
  readonly streams: readonly string[];
}

const PROTOCOL = 'beacon.v1';
const CLOSE_POLICY = 1008;
const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;
/** A connection that lasted this long was a good one: the next failure starts the backoff afresh. */
const STABLE_MS = 5_000;

/**
 * Delay before reconnection attempt `attempt` (1-based): doubling from 0.5 s to a 30 s cap, with
 * "equal jitter" (half fixed, half random) so that many dashboards do not return in step after a restart.
 */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** Math.max(0, attempt - 1));
  return base / 2 + random() * (base / 2);
}

/** `ws:` or `wss:` to match the page, on the page's own host. */
export function streamUrl(streams: readonly string[], location: Location = window.location): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/v1/stream?streams=${encodeURIComponent(streams.join(','))}`;
}

/**
 * The `/v1/stream` WebSocket, kept open: it reconnects by itself with backoff, waits while the
 * browser is offline, and stops only when closed or when the server refuses the token.
 */
export class LiveStream {
  readonly #options: StreamOptions;
  readonly #listener: StreamListener;
  #socket: WebSocket | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #attempt = 0;
  #everOpened = false;
  #stopped = false;

  constructor(options: StreamOptions, listener: StreamListener) {
    this.#options = options;
    this.#listener = listener;
  }

  start(): void {
    window.addEventListener('online', this.#onOnline);
    window.addEventListener('offline', this.#onOffline);
    if (navigator.onLine) this.#connect();
    else this.#setStatus('offline');
  }

  /** Closes the connection for good. */
  close(): void {
    this.#stop();
    const socket = this.#socket;
    this.#socket = null;
    if (socket) {
      detach(socket);
      socket.close(1000);
    }
  }

  #stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    window.removeEventListener('online', this.#onOnline);
    window.removeEventListener('offline', this.#onOffline);
  }

  #connect(): void {
    this.#timer = undefined;
    this.#setStatus(this.#everOpened || this.#attempt > 0 ? 'reconnecting' : 'connecting');
    let socket: WebSocket;
    try {
      // Browsers cannot set headers on a WebSocket: the token rides as a subprotocol, never in the URL.
      socket = new WebSocket(streamUrl(this.#options.streams), [PROTOCOL, `bearer.${this.#options.token}`]);
    } catch (err) {
      // The constructor throws only for a malformed URL or subprotocol: a token no server would accept.
      this.#stop();
      this.#setStatus('offline');
      this.#listener.rejected(`This token cannot be used for the live stream (${(err as Error).message})`);
      return;
    }
    this.#socket = socket;
    let openedAt: number | null = null;

    socket.onopen = () => {
      openedAt = Date.now();
      const reconnected = this.#everOpened;
      this.#everOpened = true;
      this.#setStatus('live');
      this.#listener.opened(reconnected);
    };
    socket.onmessage = (event: MessageEvent) => {
      if (typeof event.data === 'string') this.#receive(event.data);
    };
    socket.onclose = (event: CloseEvent) => {
      detach(socket);
      if (this.#socket !== socket) return;
      this.#socket = null;
      if (this.#stopped) return;
      if (event.code === CLOSE_POLICY) {
        this.#stop();
        this.#setStatus('offline');
        this.#listener.rejected(event.reason || 'The server refused the token');
        return;
      }
      if (openedAt !== null && Date.now() - openedAt >= STABLE_MS) this.#attempt = 0;
      this.#attempt += 1;
      if (openedAt === null) this.#listener.failed(this.#attempt);
      this.#retry();
    };
  }

  #receive(data: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(data);
    } catch {
      // The server only sends JSON; a frame that is not is not a message, and nothing can be done with it.
      return;
    }
    if (typeof frame !== 'object' || frame === null) return;
    const f = frame as Record<string, unknown>;
    if (f.type === 'record' && typeof f.id === 'string' && typeof f.receivedAt === 'string') {
      this.#listener.record(f as unknown as RecordFrame);
    } else if (f.type === 'dropped' && typeof f.count === 'number') {
      this.#listener.dropped(f.count);
    } else {
      this.#listener.other?.(f);
    }
    // Other frame types (`hello`, and any added later) carry nothing this client needs.
  }

  #retry(): void {
    if (!navigator.onLine) {
      this.#setStatus('offline');
      return;
    }
    this.#setStatus('reconnecting');
    this.#timer = setTimeout(() => this.#connect(), backoffDelay(this.#attempt));
  }

  readonly #onOnline = (): void => {
    if (this.#stopped || this.#socket) return;
    clearTimeout(this.#timer);
    this.#connect();
  };

  readonly #onOffline = (): void => {
    // An open socket may well survive a blip; only a pending retry is put on hold.
    if (this.#stopped || this.#socket) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#setStatus('offline');
  };

  #setStatus(status: StreamStatus): void {
    this.#listener.status(status, status === 'live' ? 0 : this.#attempt);
  }
}

function detach(socket: WebSocket): void {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onclose = null;
}
