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
