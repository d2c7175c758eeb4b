import { BeaconError } from '../errors/catalog.ts';

/**
 * Decodes the agent's protobuf `Batch` (agent/agent.proto) into the same JSON shape `/v1/collect` takes,
 * so both transports share one validation. Hand-written: seven fields do not warrant a codegen toolchain.
 */
export function decodeBatch(bytes: Uint8Array): unknown {
  const reader = new Reader(bytes);
  const batch: { s?: string; e: Record<string, unknown>[] } = { e: [] };
  while (!reader.done) {
    const [field, wire] = reader.tag();
    if (field === 1 && wire === 2) batch.s = reader.string();
    else if (field === 2 && wire === 2) batch.e.push(decodeEvent(reader.bytes()));
    else reader.skip(wire);
  }
  return batch;
}

function decodeEvent(bytes: Uint8Array): Record<string, unknown> {
  const reader = new Reader(bytes);
  const event: Record<string, unknown> = {};
  const props: Record<string, string> = {};
  while (!reader.done) {
    const [field, wire] = reader.tag();
    if (field === 1 && wire === 2) event.n = reader.string();
    else if (field === 2 && wire === 2) event.u = reader.string();
    else if (field === 3 && wire === 2) event.r = reader.string();
    else if (field === 4 && wire === 2) {
      const entry = new Reader(reader.bytes());
      let key = '';
      let value = '';
      while (!entry.done) {
        const [f, w] = entry.tag();
        if (f === 1 && w === 2) key = entry.string();
        else if (f === 2 && w === 2) value = entry.string();
        else entry.skip(w);
      }
      props[key] = value;
    } else if (field === 5 && wire === 0) event.a = reader.varint();
    else if (field === 6 && wire === 2) event.i = reader.string();
    else if (field === 7 && wire === 2) {
      const money = new Reader(reader.bytes());
      const revenue: Record<string, string> = {};
      while (!money.done) {
        const [f, w] = money.tag();
        if (f === 1 && w === 2) revenue.a = money.string();
        else if (f === 2 && w === 2) revenue.c = money.string();
        else money.skip(w);
      }
      event.m = revenue;
    } else reader.skip(wire);
  }
  if (Object.keys(props).length > 0) event.p = props;
  return event;
}

const bad = (why: string) => new BeaconError('COLLECT_INVALID', `protobuf frame: ${why}`);
const utf8 = new TextDecoder('utf-8', { fatal: true });

class Reader {
  readonly #bytes: Uint8Array;
  #at = 0;
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }
  get done(): boolean {
    return this.#at >= this.#bytes.length;
  }
  varint(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.#at >= this.#bytes.length) throw bad('truncated varint');
      const b = this.#bytes[this.#at++]!;
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
    }
    throw bad('varint too long');
  }
  tag(): [number, number] {
    const t = this.varint();
    return [Math.floor(t / 8), t & 7];
  }
  bytes(): Uint8Array {
    const n = this.varint();
    if (this.#at + n > this.#bytes.length) throw bad('truncated field');
    const out = this.#bytes.subarray(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }
  string(): string {
    try {
      return utf8.decode(this.bytes());
    } catch (err) {
      if (err instanceof BeaconError) throw err;
      throw bad('a string is not UTF-8');
    }
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.#at += 4;
    else if (wire === 1) this.#at += 8;
    else throw bad(`unsupported wire type ${wire}`);
  }
}
