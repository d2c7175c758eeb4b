import { randomFillSync } from 'node:crypto';

/**
 * UUIDv7 (RFC 9562) ids for records, made for the ingest hot path. The `uuid` package draws fresh
 * random bytes from the OS for every id and cost about 11 µs per id here, more than parsing and storing
 * the message together; this one takes random bytes from a pooled buffer and formats with a lookup
 * table (about 0.3 µs).
 *
 * Ids rise within the process (RFC 9562 method 1): `rand_a` is a counter, started at a random point
 * below 2048 each millisecond so that it has room; if it would overflow, the timestamp moves one
 * millisecond ahead, as the RFC allows.
 */
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const POOL_IDS = 4096;
const pool = Buffer.allocUnsafe(POOL_IDS * 10);
let poolAt = pool.length;
let lastMs = -1;
let seq = 0;
let msHex = '';

function randomBytes(n: number): number {
  if (poolAt + n > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const at = poolAt;
  poolAt += n;
  return at;
}

function startSequence(): number {
  const at = randomBytes(2);
  return ((pool[at]! << 8) | pool[at + 1]!) & 0x7ff;
}

export function uuidv7(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    seq = startSequence();
    msHex = lastMs.toString(16).padStart(12, '0');
  } else if (++seq > 0xfff) {
    lastMs += 1;
    seq = startSequence();
    msHex = lastMs.toString(16).padStart(12, '0');
  }
  const b = randomBytes(8);
  return (
    `${msHex.slice(0, 8)}-${msHex.slice(8)}-7${HEX[seq >> 8]![1]}${HEX[seq & 0xff]}-` +
    `${HEX[(pool[b]! & 0x3f) | 0x80]}${HEX[pool[b + 1]!]}-` +
    `${HEX[pool[b + 2]!]}${HEX[pool[b + 3]!]}${HEX[pool[b + 4]!]}${HEX[pool[b + 5]!]}${HEX[pool[b + 6]!]}${HEX[pool[b + 7]!]}`
  );
}
