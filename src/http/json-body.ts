import { isUtf8 } from 'node:buffer';
import { BeaconError } from '../errors/catalog.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route takes its JSON body as text and parses it itself (see {@link splitObjectArray}). */
    readonly rawJson?: boolean;
  }
}

/** A body's bytes as text, refused (INVALID_UTF8) rather than repaired when they are not UTF-8. */
export function utf8Text(body: Buffer): string {
  if (!isUtf8(body)) throw new BeaconError('INVALID_UTF8');
  return body.toString('utf8');
}

/** Nesting a JSON body may have unless the configuration says otherwise (`ingest.maxJsonDepth`). */
export const DEFAULT_MAX_JSON_DEPTH = 128;

/**
 * Parses a JSON request body, with the catalog's error for an empty, malformed, too deeply nested
 * one, or one holding a number JSON cannot carry (see {@link checkJsonText}).
 */
export function parseJsonBody(text: string, maxDepth = DEFAULT_MAX_JSON_DEPTH): unknown {
  if (text === '') throw new BeaconError('BAD_JSON', 'the body is empty');
  // Checked before parsing, so no parser ever walks a hostile depth.
  checkJsonText(text, maxDepth);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BeaconError('BAD_JSON', `the body is not valid JSON: ${(err as Error).message}`);
  }
}

const MINUS = 45;
const ZERO = 48;
const NINE = 57;
const SMALL_E = 101;
const CAPITAL_E = 69;
const DOT = 46;
const PLUS = 43;
const isNumberChar = (c: number) =>
  (c >= ZERO && c <= NINE) || c === MINUS || c === PLUS || c === DOT || c === SMALL_E || c === CAPITAL_E;

/**
 * Refuses valid JSON text that Beacon could not carry faithfully, in one pass without recursion (so
 * a hostile document cannot exhaust the stack here):
 * - nesting deeper than `maxDepth` (JSON_TOO_DEEP): encoding such a value again (for the log, the
 *   store, a response) recurses once per level, and a few thousand levels overflow the stack;
 * - a number outside what a double holds, such as `1e999999` (NUMBER_NOT_FINITE): it would parse as
 *   Infinity and be stored as `null`;
 * - a `\uD800`-style escape of half a surrogate pair (INVALID_UNICODE): it is no character, and
 *   PostgreSQL refuses it, so one backend would keep what the other cannot.
 * Only brackets, strings and number tokens are followed: malformed text is left to the parser.
 */
export function checkJsonText(text: string, maxDepth: number): void {
  const n = text.length;
  const scan = new StringScan(text);
  let depth = 0;
  for (let at = 0; at < n; at++) {
    const c = text.charCodeAt(at);
    if (c === QUOTE) {
      at = checkedString(scan, at);
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) {
        throw new BeaconError('JSON_TOO_DEEP', `JSON may nest at most ${maxDepth} levels`);
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    } else if ((c >= ZERO && c <= NINE) || c === MINUS) {
      const start = at;
      let exponent = false;
      while (at + 1 < n && isNumberChar(text.charCodeAt(at + 1))) {
        at++;
        const e = text.charCodeAt(at);
        if (e === SMALL_E || e === CAPITAL_E) exponent = true;
      }
      // Only an exponent or some 300 digits can leave a double's range.
      if ((exponent || at - start > 300) && !Number.isFinite(Number(text.slice(start, at + 1)))) {
        const token = text.slice(start, Math.min(at + 1, start + 40));
        throw new BeaconError('NUMBER_NOT_FINITE', `the number ${token} is out of range`);
      }
    }
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

const SMALL_U = 117;

/** The code unit a `\uXXXX` escape at `at` (its backslash) names, or -1 when it is not one. */
function escapedUnit(text: string, at: number): number {
  if (text.charCodeAt(at) !== BACKSLASH || text.charCodeAt(at + 1) !== SMALL_U) return -1;
  const hex = text.slice(at + 2, at + 6);
  return /^[0-9a-fA-F]{4}$/.test(hex) ? parseInt(hex, 16) : -1;
}

/**
 * Finds the quotes and backslashes of a text with `indexOf` (memchr speed) instead of a loop over
 * every code unit: a 4 MiB batch of 4 KB strings was checked and split in 27 ms a character at a
 * time, 1 ms this way. The next backslash is looked up once and kept until it is passed, so a text without any
 * is searched for one once.
 */
class StringScan {
  readonly text: string;
  #backslash = -1;

  constructor(text: string) {
    this.text = text;
  }

  /** The first backslash at or after `at`, or the text's length when there is none. */
  backslash(at: number): number {
    if (this.#backslash < at) {
      const found = this.text.indexOf('\\', at);
      this.#backslash = found === -1 ? this.text.length : found;
    }
    return this.#backslash;
  }

  /**
   * Where the string that opens at `open` (a quote) ends: its closing quote, or the text's end.
   * `escape` is given each backslash inside it and returns the last code unit the escape takes.
   * The first few units are looked at one by one (most strings are short, and indexOf costs a call);
   * a longer string is searched.
   */
  closingQuote(open: number, escape: (text: string, at: number) => number): number {
    const text = this.text;
    let at = open + 1;
    for (const short = Math.min(text.length, at + SHORT_STRING); at < short; at++) {
      const d = text.charCodeAt(at);
      if (d === QUOTE) return at;
      // Only a `\u` escape can be more than two units, or refused.
      if (d === BACKSLASH) at = text.charCodeAt(at + 1) === SMALL_U ? escape(text, at) : at + 1;
    }
    for (;;) {
      const quote = text.indexOf('"', at);
      const end = quote === -1 ? text.length : quote;
      const backslash = this.backslash(at);
      if (backslash >= end) return end;
      at = (text.charCodeAt(backslash + 1) === SMALL_U ? escape(text, backslash) : backslash + 1) + 1;
    }
  }
}

/** Code units of a string looked at one by one before it is searched with indexOf. */
const SHORT_STRING = 24;

/** The last code unit of the escape whose backslash is at `at`: `\\"` and `\\\\` are two units. */
const plainEscape = (_text: string, at: number): number => at + 1;

/**
 * Like {@link plainEscape}, refusing an escaped high surrogate not followed by an escaped low one,
 * and a low one on its own (raw surrogates cannot occur: the body was checked to be UTF-8).
 */
function checkedEscape(text: string, at: number): number {
  const unit = escapedUnit(text, at);
  if (unit >= 0xd800 && unit <= 0xdbff) {
    const low = escapedUnit(text, at + 6);
    if (low < 0xdc00 || low > 0xdfff) throw new BeaconError('INVALID_UNICODE');
    return at + 11;
  }
  if (unit >= 0xdc00 && unit <= 0xdfff) throw new BeaconError('INVALID_UNICODE');
  return at + 1;
}

/** Where the string that opens at `open` (a quote) ends: its closing quote, or the text's end. */
function closingQuote(scan: StringScan, open: number): number {
  return scan.closingQuote(open, plainEscape);
}

/** Like `closingQuote`, refusing half a surrogate pair (see {@link checkedEscape}). */
function checkedString(scan: StringScan, open: number): number {
  return scan.closingQuote(open, checkedEscape);
}

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
  const scan = new StringScan(text);
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
        at = closingQuote(scan, at);
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
