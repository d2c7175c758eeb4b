import { BeaconError } from '../errors/catalog.ts';

/**
 * Opaque keyset cursors: the sort key of the last row returned, as base64url JSON. Clients must not
 * build them; the server checks the shape when one comes back.
 */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** Decodes a cursor whose key has the given element types, or throws BAD_CURSOR. */
export function decodeCursor<const T extends readonly ('string' | 'number')[]>(
  cursor: string,
  shape: T,
): { [K in keyof T]: T[K] extends 'number' ? number : string } {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new BeaconError('BAD_CURSOR');
  }
  if (!Array.isArray(key) || key.length !== shape.length || shape.some((type, i) => typeof key[i] !== type)) {
    throw new BeaconError('BAD_CURSOR');
  }
  return key as { [K in keyof T]: T[K] extends 'number' ? number : string };
}

/** One page of a listing, as every list route answers it. */
export interface Page<J> {
  readonly items: J[];
  /** The cursor of the next page; null at the end. */
  readonly next: string | null;
}

/**
 * A page from rows read with `limit + 1`: the extra row only says there is more, and the last row
 * shown gives the next cursor's key.
 */
export function page<T, J>(
  rows: readonly T[],
  limit: number,
  keyOf: (row: T) => readonly (string | number)[],
  toJson: (row: T) => J,
): Page<J> {
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  return {
    items: shown.map(toJson),
    next: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null,
  };
}
