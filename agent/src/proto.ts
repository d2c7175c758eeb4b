/** Hand-encoded protobuf `Batch` (agent/agent.proto): a few bytes of code instead of a library. */
import type { QueuedEvent } from './agent.ts';

type Bytes = number[];
const utf8 = new TextEncoder();

function varint(out: Bytes, n: number): void {
  for (; n > 127; n = Math.floor(n / 128)) out.push((n & 127) | 128);
  out.push(n);
}

function bytes(out: Bytes, field: number, value: ArrayLike<number>): void {
  varint(out, (field << 3) | 2);
  varint(out, value.length);
  for (let i = 0; i < value.length; i++) out.push(value[i]!);
}

function text(out: Bytes, field: number, value: string | undefined): void {
  if (value) bytes(out, field, utf8.encode(value));
}

/** Encodes a site's events as one `Batch` frame; `now` turns event times into ages. */
export function encodeBatch(
  site: string,
  events: readonly QueuedEvent[],
  now: number,
): Uint8Array<ArrayBuffer> {
  const out: Bytes = [];
  text(out, 1, site);
  for (const e of events) {
    const ev: Bytes = [];
    text(ev, 1, e.n);
    text(ev, 2, e.u);
    text(ev, 3, e.r);
    for (const k in e.p) {
      const entry: Bytes = [];
      text(entry, 1, k);
      text(entry, 2, String(e.p[k]));
      bytes(ev, 4, entry);
    }
    varint(ev, 40);
    varint(ev, now - e.t);
    text(ev, 6, e.i);
    if (e.m) {
      const money: Bytes = [];
      text(money, 1, String(e.m.a));
      text(money, 2, e.m.c);
      bytes(ev, 7, money);
    }
    bytes(out, 2, ev);
  }
  return new Uint8Array(out);
}
