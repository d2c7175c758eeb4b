import { ApiError, isAbort } from './api.ts';
import type { Session } from './auth.ts';
import { fetchNewest } from './history.ts';
import { MessageLog, toEntry, type Entry } from './message-log.ts';
import { RateMeter } from './rate-meter.ts';
import { sleep } from './sleep.ts';
import { LiveStream, type RecordFrame, type StreamStatus } from './stream.ts';

/** Where paging into the past stands. */
export type OlderState = 'idle' | 'loading' | 'exhausted' | 'full';

/** Everything the live page renders, as one immutable snapshot. */
export interface LiveView {
  /** Newest first. The same array until the list changes, so the list can skip re-rendering. */
  readonly entries: readonly Entry[];
  readonly capacity: number;
  readonly status: StreamStatus;
  /** Reconnection attempts since the last good connection. */
  readonly attempt: number;
  /** Messages received over the stream this session. */
  readonly received: number;
  /** Messages per second over the last 10 s. */
  readonly rate: number;
  readonly paused: boolean;
  /** Messages waiting to be shown while paused. */
  readonly buffered: number;
  /** Frames the server skipped because this client fell behind. */
  readonly dropped: number;
  /** The first page of history is on its way. */
  readonly loading: boolean;
  readonly older: OlderState;
  /** Start of the span of history searched so far, epoch ms. */
  readonly searchedFrom: number | null;
  /** The last failed history request, if it has not been retried. */
  readonly problem: string | null;
}

const CAPACITY = 5000;
/** On load: the newest messages of the last quarter hour, at least this many when there are. */
const INITIAL_WINDOW_MS = 15 * 60_000;
const INITIAL_ROWS = 200;
/** "Load older" fetches about this many, searching at most a week further back per try. */
const OLDER_ROWS = 200;
const OLDER_SPAN_MS = 5 * 60_000;
const OLDER_REACH_MS = 7 * 24 * 60 * 60_000;
/**
 * The stream pushes a message when it is accepted, the list API shows it once stored, a few ms later.
 * Waiting this long after connecting before backfilling lets the list catch up with the stream.
 */
const SETTLE_MS = 1000;
/** Renders at most this often, so a busy stream costs ten list updates a second, not one per message. */
const FRAME_MS = 100;
const RATE_WINDOW_S = 10;
/**
 * Above this many new rows in one frame, none is highlighted: nobody can follow that many, and
 * thousands of running animations would cost more than everything else on the page.
 */
const FLASH_LIMIT = 20;

export const INITIAL_VIEW: LiveView = {
  entries: [],
  capacity: CAPACITY,
  status: 'connecting',
  attempt: 0,
  received: 0,
  rate: 0,
  paused: false,
  buffered: 0,
  dropped: 0,
  loading: true,
  older: 'idle',
  searchedFrom: null,
  problem: null,
};

type Task = (signal: AbortSignal) => Promise<void>;

/**
 * The live page's model: the message stream, the history that fills in around it, and the list
 * they make together. History requests run one at a time, in order, so a backfill always sees the
 * result of the load before it.
 */
export class LiveFeed {
  readonly #session: Session;
  readonly #onChange: (view: LiveView) => void;
  /** What the list shows. */
  readonly #log = new MessageLog(CAPACITY);
  /** Arrived but not yet shown: waiting for the next frame, or for resume. */
  readonly #pending = new MessageLog(CAPACITY);
  /** Arrived since the last frame; merged in one go, since merging sorts and copies. */
  #incoming: Entry[] = [];
  readonly #rate = new RateMeter(RATE_WINDOW_S);
  readonly #stream: LiveStream;
  /** Aborts history requests; replaced on reload so that a new load does not wait on an old one. */
  #history = new AbortController();
  #queue: Promise<void> = Promise.resolve();
  /** Start of the first load's window: where a backfill begins when nothing has arrived yet. */
  #initialFrom = 0;
  #received = 0;
  #retry: (() => void) | null = null;
  #frameTimer: ReturnType<typeof setTimeout> | undefined;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #lastFrame = 0;
  #closed = false;
  #view: LiveView = INITIAL_VIEW;

  constructor(session: Session, onChange: (view: LiveView) => void) {
    this.#session = session;
    this.#onChange = onChange;
    this.#stream = new LiveStream(
      { token: session.token, streams: ['messages'] },
      {
        status: (status, attempt) => this.#update({ status, attempt }),
        opened: () => this.#backfill(),
        failed: () => this.#probe(),
        record: (frame) => this.#receive(frame),
        dropped: (count) => this.#update({ dropped: this.#view.dropped + count }),
        rejected: (reason) => this.#session.signOut(reason),
      },
    );
  }

  start(): void {
    this.#initialFrom = Date.now() - INITIAL_WINDOW_MS;
    this.#stream.start();
    this.#enqueue((signal) => this.#loadInitial(signal));
    // The rate decays while nothing arrives; a tick keeps the figure honest.
    this.#ticker = setInterval(() => this.#schedule(), 1000);
  }

  close(): void {
    this.#closed = true;
    this.#stream.close();
    this.#history.abort();
    clearTimeout(this.#frameTimer);
    clearInterval(this.#ticker);
  }

  pause(): void {
    this.#update({ paused: true });
  }

  resume(): void {
    this.#update({ paused: false });
  }

  /** Fetches the next stretch of older messages. */
  loadOlder(): void {
    const { older, searchedFrom } = this.#view;
    if (searchedFrom === null || older === 'loading' || older === 'full') return;
    this.#update({ older: 'loading' });
    this.#enqueue(async (signal) => {
      const from = searchedFrom - OLDER_REACH_MS;
      const result = await fetchNewest(
        this.#session.api,
        { from, to: searchedFrom, want: OLDER_ROWS, span: OLDER_SPAN_MS },
        signal,
      );
      signal.throwIfAborted();
      this.#log.add(result.messages.map((m) => toEntry(m.id, m.receivedAt, m.payload, false)));
      const exhausted = result.messages.length === 0 && result.reached === from;
      this.#update({ searchedFrom: result.reached, older: exhausted ? 'exhausted' : 'idle' });
    });
  }

  /** Starts the list afresh from the newest messages; what the stream skipped is fetched with them. */
  reload(): void {
    this.#history.abort();
    this.#history = new AbortController();
    this.#queue = Promise.resolve();
    this.#log.clear();
    this.#pending.clear();
    this.#incoming = [];
    this.#initialFrom = Date.now() - INITIAL_WINDOW_MS;
    this.#update({ dropped: 0, loading: true, older: 'idle', searchedFrom: null, problem: null });
    this.#enqueue((signal) => this.#loadInitial(signal));
  }

  dismissDropped(): void {
    this.#update({ dropped: 0 });
  }

  /** Runs the history request that failed again. */
  retry(): void {
    const retry = this.#retry;
    this.#retry = null;
    this.#update({ problem: null });
    retry?.();
  }

  async #loadInitial(signal: AbortSignal): Promise<void> {
    const result = await fetchNewest(
      this.#session.api,
      { from: this.#initialFrom, to: null, want: INITIAL_ROWS, span: INITIAL_WINDOW_MS },
      signal,
    );
    signal.throwIfAborted();
    this.#log.add(result.messages.map((m) => toEntry(m.id, m.receivedAt, m.payload, false)));
    this.#update({ loading: false, searchedFrom: result.reached });
  }

  /**
   * After a connection opens, fetches what arrived since the newest message held before it: the gap
   * while disconnected, or on the first connection, between the first load and the subscription.
   */
  #backfill(): void {
    // While the first load is still on its way, the gap starts where its answer ends; that is known
    // only once it is in, and the queue runs this after it.
    const firstLoad = this.#view.loading;
    const known = newestTime([this.#log, this.#pending], this.#incoming);
    this.#enqueue(async (signal) => {
      const since = (firstLoad ? this.#log.entries.find((e) => !e.live)?.time : known) ?? this.#initialFrom;
      await sleep(SETTLE_MS, signal);
      const result = await fetchNewest(
        this.#session.api,
        { from: since, to: null, want: CAPACITY, span: Date.now() - since + SETTLE_MS },
        signal,
      );
      signal.throwIfAborted();
      for (const m of result.messages) this.#incoming.push(toEntry(m.id, m.receivedAt, m.payload, false));
      this.#schedule();
    });
  }

  /**
   * A connection attempt failed before opening. A server that refuses the token before the upgrade
   * looks like a network failure to a browser, so ask the API whether the token still holds.
   */
  #probe(): void {
    this.#session.api.listMessages({ limit: 1 }, this.#history.signal).then(
      () => undefined,
      (err: unknown) => {
        if (err instanceof ApiError && err.unauthorized) this.#session.signOut(err.message);
        // Anything else (the server is down) is what the status pill already says.
      },
    );
  }

  #receive(frame: RecordFrame): void {
    if (frame.stream !== 'messages') return;
    this.#incoming.push(toEntry(frame.id, frame.receivedAt, frame.body, true));
    this.#rate.mark(1);
    this.#received += 1;
    this.#schedule();
  }

  #enqueue(task: Task): void {
    const signal = this.#history.signal;
    this.#queue = this.#queue.then(() => this.#run(task, signal));
  }

  async #run(task: Task, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    try {
      await task(signal);
    } catch (err) {
      if (isAbort(err) || signal.aborted) return;
      if (err instanceof ApiError && err.unauthorized) {
        this.#session.signOut(err.message);
        return;
      }
      this.#retry = () => this.#enqueue(task);
      const { older } = this.#view;
      this.#update({
        problem: `Could not load messages: ${err instanceof Error ? err.message : String(err)}`,
        older: older === 'loading' ? 'idle' : older,
        loading: false,
      });
    }
  }

  #update(change: Partial<LiveView>): void {
    this.#view = { ...this.#view, ...change };
    this.#schedule();
  }

  #schedule(): void {
    if (this.#frameTimer !== undefined || this.#closed) return;
    const wait = Math.max(0, this.#lastFrame + FRAME_MS - Date.now());
    this.#frameTimer = setTimeout(() => this.#frame(), wait);
  }

  #frame(): void {
    this.#frameTimer = undefined;
    this.#lastFrame = Date.now();
    if (this.#incoming.length > 0) {
      // A backfill overlaps what is shown; only what is new counts as waiting.
      this.#pending.add(this.#incoming.filter((entry) => !this.#log.has(entry.id)));
      this.#incoming = [];
    }
    if (!this.#view.paused && this.#pending.size > 0) {
      const batch = this.#pending.entries;
      this.#log.add(
        batch.length > FLASH_LIMIT ? batch.map((e) => (e.flash ? { ...e, flash: false } : e)) : batch,
      );
      this.#pending.clear();
    }
    const older = this.#log.full ? 'full' : this.#view.older;
    this.#view = {
      ...this.#view,
      entries: this.#log.entries,
      older,
      received: this.#received,
      buffered: this.#pending.size,
      rate: this.#rate.rate(),
    };
    this.#onChange(this.#view);
  }
}

function newestTime(logs: readonly MessageLog[], loose: readonly Entry[]): number | null {
  let newest: number | null = null;
  for (const log of logs) {
    const time = log.newest?.time;
    if (time !== undefined && (newest === null || time > newest)) newest = time;
  }
  for (const entry of loose) if (newest === null || entry.time > newest) newest = entry.time;
  return newest;
}
