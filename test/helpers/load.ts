// Load and exactly-once checks shared by the crash, outage and fault tests.
import assert from 'node:assert/strict';

/**
 * One answer the load saw: when its request was sent and when it was answered (ms since the epoch),
 * its status, and for an error its code and Retry-After.
 */
export interface Answer {
  readonly sent: number;
  readonly at: number;
  /** HTTP status, or 0 when the request failed without an answer (the server died mid-request). */
  readonly status: number;
  readonly code?: string;
  readonly retryAfter?: string | null;
}

/** A running load: what it has seen so far, and how to stop it. */
export interface Load {
  /** Every id answered 202 so far. */
  readonly accepted: Set<string>;
  /** Every answer so far, in the order they came. */
  readonly answers: Answer[];
  /** Stops every loop once its request in flight is answered; resolves with the ids answered 202. */
  stop(): Promise<Set<string>>;
}

export interface LoadOptions {
  /** Ingest tokens, used in turn: one per tenant spreads records over Kafka partitions. */
  readonly tokens: readonly string[];
  /** Concurrent loops; each sends one request at a time, to the servers in turn. */
  readonly clients: number;
  /** Pause between one loop's requests, to keep a shared machine's load modest (default none). */
  readonly pauseMs?: number;
  /** Wait as Retry-After says before a loop's next request, as a well-behaved client does. */
  readonly honourRetryAfter?: boolean;
}

/** The catalog code of an error body, if it is one. */
function errorCode(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

/**
 * Posts messages from concurrent loops to the servers (and with the tokens) in turn until stopped, as single messages and
 * batches of 20, and records every answer. Errors (a server dying mid-request) are expected and not
 * counted as accepted.
 */
export function ingestLoad(urls: readonly string[], options: LoadOptions): Load {
  const accepted = new Set<string>();
  const answers: Answer[] = [];
  let running = true;
  let n = 0;
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const loops = Array.from({ length: options.clients }, async () => {
    while (running) {
      const seq = n++;
      const single = seq % 3 !== 0;
      const url = urls[seq % urls.length]!;
      const token = options.tokens[Math.floor(seq / urls.length) % options.tokens.length]!;
      const sent = Date.now();
      try {
        const res = await fetch(url + (single ? '/v1/messages' : '/v1/messages/batch'), {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(single ? { seq } : Array.from({ length: 20 }, (_, i) => ({ seq, i }))),
        });
        const text = await res.text();
        if (res.status === 202) {
          const body = JSON.parse(text) as { id?: string; items?: { id: string }[] };
          if (body.id) accepted.add(body.id);
          for (const item of body.items ?? []) accepted.add(item.id);
          answers.push({ sent, at: Date.now(), status: 202 });
        } else {
          const code = errorCode(text);
          const retryAfter = res.headers.get('retry-after');
          answers.push({ sent, at: Date.now(), status: res.status, ...(code ? { code } : {}), retryAfter });
          if (options.honourRetryAfter && retryAfter) await pause(Number(retryAfter) * 1000);
        }
      } catch {
        answers.push({ sent, at: Date.now(), status: 0 });
        await pause(5);
      }
      if (options.pauseMs) await pause(options.pauseMs);
    }
  });
  return {
    accepted,
    answers,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return accepted;
    },
  };
}

/**
 * Posts messages from `clients` concurrent loops until stopped; returns every id answered 202.
 * Errors (the server dying mid-request) are expected and not counted as accepted.
 */
export function postLoop(url: string, clients: number, token: string): { stop: () => Promise<Set<string>> } {
  return ingestLoad([url], { clients, tokens: [token] });
}

export async function storedIds(url: string, token: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await fetch(`${url}/v1/messages?limit=1000${cursor ? `&after=${cursor}` : ''}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const page = (await res.json()) as { items: { id: string }[]; next: string | null };
    ids.push(...page.items.map((i) => i.id));
    cursor = page.next;
  } while (cursor);
  return ids;
}

export function assertExactlyOnce(accepted: Set<string>, stored: string[]): void {
  const counts = new Map<string, number>();
  for (const id of stored) counts.set(id, (counts.get(id) ?? 0) + 1);
  const doubled = [...counts].filter(([, c]) => c > 1);
  assert.deepEqual(doubled, [], 'no message is stored twice');
  const missing = [...accepted].filter((id) => !counts.has(id));
  assert.deepEqual(missing, [], 'every message answered 202 is stored');
}
