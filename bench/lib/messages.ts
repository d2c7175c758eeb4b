import { Progress } from './progress.ts';
import type { BenchServer } from './server.ts';

/** One page of `GET /v1/messages`. */
export interface MessagePage {
  readonly items: readonly { readonly id: string; readonly receivedAt: string; readonly payload: unknown }[];
  readonly next: string | null;
}

/** The query string for a page of `limit` messages after `cursor` (from the start when undefined). */
export function pageQuery(limit: number, cursor?: string): string {
  return `/v1/messages?limit=${limit}${cursor === undefined ? '' : `&after=${encodeURIComponent(cursor)}`}`;
}

export function fetchPage(server: BenchServer, limit: number, cursor?: string): Promise<MessagePage> {
  return server.request<MessagePage>(pageQuery(limit, cursor));
}

export interface WalkOptions {
  readonly label: string;
  /** How many messages the walk should find, for the progress percentage. */
  readonly expected: number;
  /** Called with each page and the number of messages before it. */
  readonly onPage?: (page: MessagePage, depth: number) => void;
}

/**
 * Pages through every stored message of the tenant with the public API, 1,000 at a time, and returns
 * how many there were.
 */
export async function walkMessages(server: BenchServer, options: WalkOptions): Promise<number> {
  const progress = new Progress(options.label, options.expected);
  let depth = 0;
  let cursor: string | undefined;
  do {
    const page = await fetchPage(server, 1000, cursor);
    options.onPage?.(page, depth);
    depth += page.items.length;
    cursor = page.next ?? undefined;
    progress.update(depth);
  } while (cursor !== undefined);
  progress.finish(depth);
  return depth;
}
