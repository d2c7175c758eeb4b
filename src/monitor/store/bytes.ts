/**
 * The byte-level primitives of the check codec: unsigned LEB128 varints for every safe integer,
 * zigzag for signed ones, IEEE doubles and length-prefixed UTF-8 strings.
 */

const TWO_31 = 2 ** 31;
const TWO_32 = 2 ** 32;

/** Zigzag: 0, -1, 1, -2, … as 0, 1, 2, 3, …, so small magnitudes of either sign take few bytes. */
export const zigzag = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);
/** The inverse of {@link zigzag} (in 32-bit integer operations below 2^32, as most are). */
export const unzigzag = (z: number): number =>
  z < TWO_32 ? (z >>> 1) ^ -(z & 1) : z % 2 === 0 ? z / 2 : -(z + 1) / 2;

/** A growable buffer written front to back. */
export class ByteWriter {
  #buf: Uint8Array;
  #view: DataView;
  #pos = 0;

  constructor(capacity = 256) {
    this.#buf = new Uint8Array(capacity);
    this.#view = new DataView(this.#buf.buffer);
  }

  get length(): number {
    return this.#pos;
  }

  #room(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    const grown = new Uint8Array(Math.max(this.#buf.length * 2, this.#pos + n));
    grown.set(this.#buf.subarray(0, this.#pos));
    this.#buf = grown;
    this.#view = new DataView(grown.buffer);
  }

  byte(b: number): void {
    this.#room(1);
    this.#buf[this.#pos++] = b;
  }

  /** A non-negative safe integer. */
  varint(n: number): void {
    this.#room(8);
    const buf = this.#buf;
    let pos = this.#pos;
    if (n < TWO_31) {
      while (n > 0x7f) {
        buf[pos++] = (n & 0x7f) | 0x80;
        n >>>= 7;
      }
    } else {
      while (n > 0x7f) {
        buf[pos++] = (n % 128) | 0x80;
        n = Math.floor(n / 128);
      }
    }
    buf[pos++] = n;
    this.#pos = pos;
  }

  /** A safe integer of either sign. */
  signed(n: number): void {
    this.varint(zigzag(n));
  }

  float(n: number): void {
    this.#room(8);
    this.#view.setFloat64(this.#pos, n, true);
    this.#pos += 8;
  }

  bytes(b: Uint8Array): void {
    this.#room(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
  }

  string(s: string): void {
    const encoded = Buffer.from(s, 'utf8');
    this.varint(encoded.length);
    this.bytes(encoded);
  }

  /** What was written, as a view of the buffer (copy it if the writer is used again). */
  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }
}

/** Reads what a {@link ByteWriter} wrote; throws a RangeError when it runs past the end. */
export class ByteReader {
  readonly #buf: Uint8Array;
  /** Made on the first float: most bodies have none, and a DataView per body is dear. */
  #view: DataView | undefined;
  #pos: number;

  constructor(buf: Uint8Array, offset = 0) {
    this.#buf = buf;
    this.#pos = offset;
  }

  get done(): boolean {
    return this.#pos >= this.#buf.length;
  }

  /** Where the next byte is read. */
  get position(): number {
    return this.#pos;
  }

  /** Continues at `position` (after bits a BitReader read). */
  seek(position: number): void {
    this.#pos = position;
  }

  /** The bytes read from. */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  #need(n: number): void {
    if (this.#pos + n > this.#buf.length) throw new RangeError('check data ends too early');
  }

  byte(): number {
    this.#need(1);
    return this.#buf[this.#pos++]!;
  }

  varint(): number {
    const buf = this.#buf;
    let pos = this.#pos;
    // One or two bytes (most values) in integer operations; longer ones in doubles, as they may pass 2^31.
    if (pos + 1 < buf.length) {
      const b0 = buf[pos]!;
      if (b0 < 0x80) {
        this.#pos = pos + 1;
        return b0;
      }
      const b1 = buf[pos + 1]!;
      if (b1 < 0x80) {
        this.#pos = pos + 2;
        return (b0 & 0x7f) | (b1 << 7);
      }
    }
    let result = 0;
    let scale = 1;
    for (;;) {
      if (pos >= buf.length) throw new RangeError('check data ends too early');
      const b = buf[pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 128;
    }
    this.#pos = pos;
    return result;
  }

  signed(): number {
    return unzigzag(this.varint());
  }

  float(): number {
    this.#need(8);
    this.#view ??= new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength);
    const n = this.#view.getFloat64(this.#pos, true);
    this.#pos += 8;
    return n;
  }

  string(): string {
    const n = this.varint();
    this.#need(n);
    const s = Buffer.from(this.#buf.buffer, this.#buf.byteOffset + this.#pos, n).toString('utf8');
    this.#pos += n;
    return s;
  }
}

/**
 * Rice codes whose quotient reaches this are escaped: the value follows in full. Blocks of format 3
 * choose the point per column, at most this; earlier ones all used this.
 */
export const RICE_ESCAPE = 32;

/** Bits of a non-negative safe integer (0 for 0). */
export function bitLength(n: number): number {
  return n === 0 ? 0 : n < 2 ** 31 ? 32 - Math.clz32(n) : Math.floor(Math.log2(n)) + 1;
}

/** What a value costs as a Rice code with parameter `k` escaped at `escape`, in bits. */
export function riceBits(z: number, k: number, escape = RICE_ESCAPE): number {
  const q = Math.floor(z / 2 ** k);
  return q < escape ? q + 1 + k : escape + 6 + bitLength(z);
}

/**
 * Bits written least significant first into bytes: Golomb–Rice codes for residuals, whose sizes
 * follow their magnitude closely (FLAC codes its residuals the same way).
 */
export class BitWriter {
  readonly #out: ByteWriter;
  #buf = new Uint8Array(1024);
  #pos = 0;
  #acc = 0;
  #count = 0;

  /** Bits go to `out` when flushed. */
  constructor(out: ByteWriter) {
    this.#out = out;
  }

  /** `count` ≤ 24 bits of `value`. */
  bits(value: number, count: number): void {
    this.#acc |= value << this.#count;
    this.#count += count;
    if (this.#count < 8) return;
    if (this.#pos + 4 > this.#buf.length) {
      const grown = new Uint8Array(this.#buf.length * 2);
      grown.set(this.#buf);
      this.#buf = grown;
    }
    do {
      this.#buf[this.#pos++] = this.#acc & 0xff;
      this.#acc >>>= 8;
      this.#count -= 8;
    } while (this.#count >= 8);
  }

  /** A non-negative safe integer of up to 53 bits, in 24-bit pieces. */
  #wide(value: number, count: number): void {
    while (count > 24) {
      this.bits(value % 2 ** 24, 24);
      value = Math.floor(value / 2 ** 24);
      count -= 24;
    }
    this.bits(value, count);
  }

  /**
   * `z` ≥ 0 as a Rice code with parameter `k` (≤ 24): quotient in unary, then k low bits; a quotient
   * of `escape` (≤ 32) or more as that many ones, the value's length in 6 bits and the value.
   */
  rice(z: number, k: number, escape = RICE_ESCAPE): void {
    if (z < TWO_31) {
      const q = z >>> k;
      // Most codes: the quotient's ones, its zero and the k low bits in one piece.
      if (q < escape && q + 1 + k <= 24) {
        this.bits(((1 << q) - 1) | ((z & ((1 << k) - 1)) << (q + 1)), q + 1 + k);
        return;
      }
    }
    const q = Math.floor(z / 2 ** k);
    if (q >= escape) {
      this.#wide(2 ** escape - 1, escape);
      const length = bitLength(z);
      this.bits(length, 6);
      this.#wide(z, length);
      return;
    }
    // q ones then a zero; q < 32 fits two pieces.
    if (q > 23) {
      this.bits(0xffffff, 24);
      this.bits((1 << (q - 24)) - 1, q - 24 + 1);
    } else this.bits((1 << q) - 1, q + 1);
    if (k > 0) this.bits(z % 2 ** k, k);
  }

  /** Writes the bits, the last partial byte padded, to the ByteWriter. */
  flush(): void {
    if (this.#count > 0) this.bits(0, 8 - this.#count);
    this.#out.bytes(this.#buf.subarray(0, this.#pos));
    this.#pos = 0;
  }
}

/** Reads what a {@link BitWriter} wrote, from a byte position; `end()` gives the byte after it. */
export class BitReader {
  readonly #buf: Uint8Array;
  #pos: number;
  #acc = 0;
  #count = 0;

  constructor(buf: Uint8Array, pos: number) {
    this.#buf = buf;
    this.#pos = pos;
  }

  /** `count` ≤ 24 bits. */
  bits(count: number): number {
    while (this.#count < count) {
      if (this.#pos >= this.#buf.length) throw new RangeError('check data ends too early');
      this.#acc |= this.#buf[this.#pos++]! << this.#count;
      this.#count += 8;
    }
    const value = this.#acc & ((1 << count) - 1);
    this.#acc >>>= count;
    this.#count -= count;
    return value;
  }

  #wide(count: number): number {
    let value = 0;
    let scale = 1;
    while (count > 24) {
      value += this.bits(24) * scale;
      scale *= 2 ** 24;
      count -= 24;
    }
    return value + this.bits(count) * scale;
  }

  /** Tops the bits at hand up to more than 24, or to all that are left. */
  #fill(): void {
    const buf = this.#buf;
    while (this.#count <= 24 && this.#pos < buf.length) {
      this.#acc |= buf[this.#pos++]! << this.#count;
      this.#count += 8;
    }
  }

  rice(k: number, escape = RICE_ESCAPE): number {
    // Most codes are whole in the bits at hand: the quotient is the count of ones below the lowest
    // zero (bits past those at hand are zeros), then k bits. A bit at a time cost a call a bit.
    if (this.#count <= 24) this.#fill();
    const acc = this.#acc;
    const zeros = ~acc;
    const ones = 31 - Math.clz32(zeros & -zeros);
    const length = ones + 1 + k;
    if (ones >= 0 && ones < escape && length <= this.#count) {
      this.#acc = length === 32 ? 0 : acc >>> length;
      this.#count -= length;
      return k > 0 ? ones * (1 << k) + ((acc >>> (ones + 1)) & ((1 << k) - 1)) : ones;
    }
    let q = 0;
    while (q < escape && this.bits(1) === 1) q++;
    if (q === escape) return this.#wide(this.bits(6));
    return k > 0 ? q * 2 ** k + this.#wide(k) : q;
  }

  /** The byte position after the last bit read (its byte's other bits are padding). */
  end(): number {
    return this.#pos - (this.#count >> 3);
  }
}
