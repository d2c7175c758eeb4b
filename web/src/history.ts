import type { Api, Message, MessageQuery } from './api.ts';

/** The part of the API history needs. */
export type MessageLister = Pick<Api, 'listMessages'>;

export interface NewestQuery {
  /** Inclusive lower bound, epoch ms: nothing older is fetched. */
  readonly from: number;
  /** Exclusive upper bound, epoch ms, or null for everything up to now. */
  readonly to: number | null;
  /** Stop once at least this many messages are found. */
  readonly want: number;
  /** Width of the first time window to ask for, ms. */
  readonly span: number;
}

export interface NewestResult {
  /** In no particular order; the caller's log sorts and deduplicates. */
  readonly messages: readonly Message[];
  /** Every message in [reached, to) has been fetched; `reached` is `from` once the whole range has been. */
  readonly reached: number;
}

const PAGE = 1000;
/** Narrowest window tried; a busier one than this is paged through whole. */
const MIN_SPAN_MS = 50;

/**
 * Fetches the newest messages in [from, to), at least `want` of them when there are that many.
 *
 * The list API pages oldest first, so paging from `from` would read everything in the range to reach
 * its newest end. Instead this walks back from `to` in time windows: a window that holds more than a
 * page is narrowed before being read, one with few messages makes the next wider. Each window is read
 * whole, so what has been fetched is always the complete range [reached, to), without gaps.
 */
export async function fetchNewest(
  api: MessageLister,
  query: NewestQuery,
  signal: AbortSignal,
): Promise<NewestResult> {
  const found: Message[] = [];
  let hi = query.to;
  let span = Math.max(query.span, MIN_SPAN_MS);
  for (;;) {
    const top = hi ?? Date.now();
    const lo = Math.max(query.from, top - span);
    const window: MessageQuery = {
      from: new Date(lo).toISOString(),
      ...(hi === null ? {} : { to: new Date(hi).toISOString() }),
      limit: PAGE,
    };
    let page = await api.listMessages(window, signal);
    if (page.next !== null && top - lo > MIN_SPAN_MS) {
      span = Math.max(MIN_SPAN_MS, (top - lo) / 8);
      continue;
    }
    let count = page.items.length;
    found.push(...page.items);
    while (page.next !== null) {
      page = await api.listMessages({ ...window, after: page.next }, signal);
      count += page.items.length;
      found.push(...page.items);
    }
    if (lo <= query.from) return { messages: found, reached: query.from };
    hi = lo;
    if (found.length >= query.want) return { messages: found, reached: lo };
    span = (top - lo) * (count === 0 ? 4 : count < PAGE / 4 ? 2 : 1);
  }
}
