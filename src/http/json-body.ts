import { BeaconError } from '../errors/catalog.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route takes its JSON body as text and parses it itself (see {@link splitObjectArray}). */
    readonly rawJson?: boolean;
  }
}

/** Parses a JSON request body, with the catalog's error for an empty or malformed one. */
export function parseJsonBody(text: string): unknown {
  if (text === '') throw new BeaconError('BAD_JSON', 'the body is empty');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BeaconError('BAD_JSON', `the body is not valid JSON: ${(err as Error).message}`);
  }
}

const SPACE = 32;
const TAB = 9;
const LF = 10;
const CR = 13;
const QUOTE = 34;
const COMMA = 44;
const BACKSLASH = 92;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

function skipSpace(text: string, at: number): number {
  for (;;) {
    const c = text.charCodeAt(at);
    if (c !== SPACE && c !== LF && c !== CR && c !== TAB) return at;
    at += 1;
  }
}

/**
 * The items of a JSON array of objects, each as its own text, for a batch that stores each item's
 * JSON: slicing costs a third of encoding every parsed item again. Only brackets and strings are
 * followed here, so the caller must still parse every item; an item that parses, between separators
 * this checks, makes the whole text a valid array. Anything else (not an array, an item that is not
 * an object, a stray character) gives undefined, and the caller parses the whole body instead.
 */
export function splitObjectArray(text: string): string[] | undefined {
  const items: string[] = [];
  const n = text.length;
  let at = skipSpace(text, 0);
  if (text.charCodeAt(at) !== OPEN_BRACKET) return undefined;
  at = skipSpace(text, at + 1);
  if (text.charCodeAt(at) === CLOSE_BRACKET) return skipSpace(text, at + 1) === n ? items : undefined;
  for (;;) {
    if (text.charCodeAt(at) !== OPEN_BRACE) return undefined;
    const start = at;
    let depth = 0;
    for (; at < n; at++) {
      const c = text.charCodeAt(at);
      if (c === QUOTE) {
        for (at++; at < n; at++) {
          const d = text.charCodeAt(at);
          if (d === BACKSLASH) at++;
          else if (d === QUOTE) break;
        }
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        depth++;
      } else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) {
        at++;
        break;
      }
    }
    if (depth !== 0) return undefined;
    items.push(text.slice(start, at));
    at = skipSpace(text, at);
    const separator = text.charCodeAt(at);
    at = skipSpace(text, at + 1);
    if (separator === CLOSE_BRACKET) return at >= n ? items : undefined;
    if (separator !== COMMA) return undefined;
  }
}
