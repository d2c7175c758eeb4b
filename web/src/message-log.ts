/** A message as the dashboard holds it: parsed once, so rendering and ordering stay cheap. */
export interface Entry {
  readonly id: string;
  readonly receivedAt: string;
  /** `receivedAt` in epoch milliseconds. */
  readonly time: number;
  readonly payload: unknown;
  /** Compact JSON of the payload, cut to a length worth putting in the DOM. */
  readonly preview: string;
  /** Arrived over the live stream, rather than from history. */
  readonly live: boolean;
  /** Highlighted as it appears. */
  readonly flash: boolean;
}

/** Longest preview kept per row: a one-line cell never shows more, and 5,000 rows of 64 KiB would not fit. */
const PREVIEW_CHARS = 1000;

export function toEntry(id: string, receivedAt: string, payload: unknown, live: boolean): Entry {
  const time = Date.parse(receivedAt);
  const json = JSON.stringify(payload ?? null);
  return {
    id,
    receivedAt,
    time: Number.isNaN(time) ? 0 : time,
    payload,
    preview: json.length > PREVIEW_CHARS ? `${json.slice(0, PREVIEW_CHARS)}…` : json,
    live,
    flash: live,
  };
}

/** Newest first, in the API's (receivedAt, id) order reversed; UUIDv7 ids sort by creation within a millisecond. */
function newerFirst(a: Entry, b: Entry): number {
  return b.time - a.time || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/**
 * Messages newest first, each id once, at most `capacity` of them: adding past that drops the oldest.
 * `entries` is replaced, never mutated, so a renderer can hold on to it as a snapshot.
 */
export class MessageLog {
  readonly capacity: number;
  #entries: readonly Entry[] = [];
  readonly #ids = new Set<string>();

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get entries(): readonly Entry[] {
    return this.#entries;
  }

  get size(): number {
    return this.#entries.length;
  }

  get newest(): Entry | undefined {
    return this.#entries[0];
  }

  get oldest(): Entry | undefined {
    return this.#entries.at(-1);
  }

  get full(): boolean {
    return this.#entries.length >= this.capacity;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /** Adds the entries not already held, in order. Returns how many were new. */
  add(batch: readonly Entry[]): number {
    const fresh: Entry[] = [];
    for (const entry of batch) {
      if (this.#ids.has(entry.id)) continue;
      this.#ids.add(entry.id);
      fresh.push(entry);
    }
    if (fresh.length === 0) return 0;
    fresh.sort(newerFirst);
    const merged = merge(fresh, this.#entries);
    if (merged.length > this.capacity) {
      for (const dropped of merged.splice(this.capacity)) this.#ids.delete(dropped.id);
    }
    this.#entries = merged;
    return fresh.length;
  }

  clear(): void {
    this.#entries = [];
    this.#ids.clear();
  }
}

/** Merges two newest-first lists; the common case (all of `a` newer than all of `b`) is a concatenation. */
function merge(a: readonly Entry[], b: readonly Entry[]): Entry[] {
  const lastA = a.at(-1);
  const firstB = b[0];
  if (!lastA || !firstB || newerFirst(lastA, firstB) < 0) return [...a, ...b];
  const out: Entry[] = new Array<Entry>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (newerFirst(x, y) <= 0) {
      out[k++] = x;
      i++;
    } else {
      out[k++] = y;
      j++;
    }
  }
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}
