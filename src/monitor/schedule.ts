import { createHash } from 'node:crypto';

/** A 32-bit hash of a string, stable across processes and versions (first bytes of SHA-1). */
export function stableHash(text: string): number {
  return createHash('sha1').update(text).digest().readUInt32BE(0);
}

/**
 * A target's offset within its interval: the same for every agent and every restart, and spread
 * evenly across targets, so checks of many targets do not all start at the top of the minute.
 */
export function slotOffset(targetKey: string, intervalMs: number): number {
  return stableHash(targetKey) % intervalMs;
}

/** The slot whose window contains `time`: slot = floor((time - offset) / interval). */
export function slotAt(time: number, intervalMs: number, offsetMs: number): number {
  return Math.floor((time - offsetMs) / intervalMs);
}

/** When a slot begins (epoch ms). */
export function slotStart(slot: number, intervalMs: number, offsetMs: number): number {
  return slot * intervalMs + offsetMs;
}

/** The first slot that begins at or after `time`. */
export function nextSlot(time: number, intervalMs: number, offsetMs: number): number {
  return Math.ceil((time - offsetMs) / intervalMs);
}

/** A shard `i/n` (0 ≤ i < n) of the target set, from `--shard`. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** Parses `i/n`; throws with the reason. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  if (!match) throw new Error(`shard must look like i/n (e.g. 0/3), got ${text}`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || index >= count) throw new Error(`shard ${text}: need 0 ≤ i < n`);
  return { index, count };
}

/**
 * Whether a target belongs to a shard, by rendezvous (highest-random-weight) hashing: each target goes
 * to the shard with the highest hash of (shard, target). Going from n to n+1 agents moves only the
 * targets the new shard wins, about 1/(n+1) of them, and every agent decides alone.
 */
export function inShard(targetKey: string, shard: Shard): boolean {
  if (shard.count === 1) return true;
  let best = 0;
  let bestWeight = -1;
  for (let i = 0; i < shard.count; i++) {
    const weight = stableHash(`${i}:${targetKey}`);
    if (weight > bestWeight) {
      bestWeight = weight;
      best = i;
    }
  }
  return best === shard.index;
}
