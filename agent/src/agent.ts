/**
 * The Beacon browser agent. Records page views (including single-page-app navigation) and custom events,
 * batches them, and sends them as text/plain JSON with sendBeacon or fetch keepalive (no CORS
 * preflight), or as protobuf frames over an optional WebSocket, falling back to the beacon when it is not
 * open. Every byte counts here: the built script must stay under 1.5 KB gzipped (agent/build.ts).
 */
import { encodeBatch } from './proto.ts';

/** Event properties: flat strings, numbers or booleans. */
export type Props = Record<string, string | number | boolean>;

/** Money a custom event carries: an amount (a number or decimal string) and an ISO 4217 currency. */
export interface Revenue {
  readonly amount: number | string;
  readonly currency: string;
}

/** An event waiting to be sent, in the wire's short field names. */
export interface QueuedEvent {
  readonly n: string;
  readonly u: string;
  readonly r: string;
  readonly p?: Props | undefined;
  /** Revenue: `a` amount, `c` currency. */
  readonly m?: { readonly a: number | string; readonly c: string } | undefined;
  /** Event time (ms); sent as an age, so the visitor's clock does not matter. */
  readonly t: number;
  readonly i: string;
}

export interface AgentOptions {
  /** The site id (`data-site`). */
  readonly site: string;
  /** Beacon's base URL, e.g. `https://stats.example.com`. */
  readonly endpoint: string;
  /** Send nothing when the browser sends Do Not Track or Global Privacy Control. */
  readonly respectDnt?: boolean;
  /** Also hold a WebSocket and send protobuf frames over it. */
  readonly socket?: boolean;
  /** Record page views automatically (default true). */
  readonly auto?: boolean;
  /** How long events wait to be batched, in ms (default 1000). */
  readonly delay?: number;
}

/** Sends a batch; true when the browser took it. Swappable so the queueing can be tested without a network. */
export type Transport = (body: string, bytes: () => Uint8Array<ArrayBuffer>) => boolean;

export interface Agent {
  /** Records a custom event (with the revenue it carries, if any), or a page view with the name `pageview`. */
  readonly track: (name: string, props?: Props, revenue?: Revenue) => void;
  /** Sends everything queued now. */
  readonly flush: () => void;
}

const randomId = () => Math.random().toString(36).slice(2, 12) + Date.now().toString(36);

/** Starts the agent in `win`. `transport` defaults to WebSocket-if-open, then sendBeacon, then fetch. */
export function createAgent(options: AgentOptions, win: Window = window, transport?: Transport): Agent {
  const { site, endpoint } = options;
  const nav = win.navigator as Navigator & { globalPrivacyControl?: boolean };
  const off = options.respectDnt && (nav.doNotTrack === '1' || nav.globalPrivacyControl === true);
  let queue: QueuedEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastPage: string | undefined;
  let socket: WebSocket | undefined;

  if (options.socket && !off) {
    const open = () => {
      socket = new WebSocket(endpoint.replace(/^http/, 'ws') + '/v1/collect/ws');
      socket.binaryType = 'arraybuffer';
      socket.onclose = () => (socket = undefined);
    };
    try {
      open();
    } catch {
      socket = undefined;
    }
  }

  const send: Transport =
    transport ??
    ((body, bytes) => {
      if (socket?.readyState === 1) {
        socket.send(bytes());
        return true;
      }
      const url = endpoint + '/v1/collect';
      if (nav.sendBeacon?.(url, body)) return true;
      void fetch(url, {
        method: 'POST',
        body,
        keepalive: true,
        headers: { 'content-type': 'text/plain' },
      }).catch(() => undefined);
      return true;
    });

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (!queue.length) return;
    const batch = queue;
    queue = [];
    const now = Date.now();
    const body = JSON.stringify({
      s: site,
      e: batch.map((e) => ({ n: e.n, u: e.u, r: e.r, p: e.p, m: e.m, a: now - e.t, i: e.i })),
    });
    send(body, () => encodeBatch(site, batch, now));
  };

  const track = (name: string, props?: Props, revenue?: Revenue) => {
    if (off) return;
    queue.push({
      n: name,
      u: win.location.href,
      r: win.document.referrer,
      p: props,
      m: revenue && { a: revenue.amount, c: revenue.currency },
      t: Date.now(),
      i: randomId(),
    });
    if (queue.length >= 20) flush();
    else timer ??= setTimeout(flush, options.delay ?? 1000);
  };

  /** A page view per distinct page: the same path again (replaceState, popstate to it) is not counted. */
  const page = () => {
    const l = win.location;
    const key = l.pathname + l.search + (l.hash.startsWith('#/') ? l.hash : '');
    if (key === lastPage) return;
    lastPage = key;
    track('pageview');
  };

  if (options.auto !== false) {
    const history = win.history;
    for (const method of ['pushState', 'replaceState'] as const) {
      const original = history[method].bind(history);
      history[method] = (...args: Parameters<History['pushState']>) => {
        original(...args);
        page();
      };
    }
    win.addEventListener('popstate', page);
    win.addEventListener('hashchange', page);
    page();
  }
  win.addEventListener('pagehide', flush);
  win.document.addEventListener('visibilitychange', () => {
    if (win.document.visibilityState === 'hidden') flush();
  });
  return { track, flush };
}
