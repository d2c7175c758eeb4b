import { constants, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import type { CheckRow } from '../model.ts';
import {
  bitLength,
  BitReader,
  BitWriter,
  ByteReader,
  ByteWriter,
  RICE_ESCAPE,
  unzigzag,
  zigzag,
} from './bytes.ts';

/**
 * The check codec both stores use (the one place that knows how a check becomes bytes):
 *
 * - **A check body**: one check without its identity (tenant, target, region, scheduledAt), about
 *   25–30 bytes, kept in a hot row until its period is compacted.
 * - **A block**: a closed period of one series (tenant, target, region) as columns: times as deltas
 *   (on-time checks make one run, so their slots cost nothing; a missed, late or extra check breaks
 *   the run), latencies as integers of 0.01 ms coded against the previous value or the column's
 *   median, whichever is shorter, small fields run-length encoded, strings dictionary-coded, and the
 *   whole zstd-compressed when it has text enough for zstd to shrink.
 *
 * Both are lossless for every check a JSON body can carry. A latency at 0.01 ms and a time at whole
 * milliseconds (what the prober makes) is coded as an integer; any other number is kept as a float64
 * exception. A check's `kind` and `state` are codes (text for one this codec does not know) and its
 * `observed` is JSON text, each absent when the check has none. A field of an unexpected type, and
 * any field this codec does not know (a newer agent's), travels as JSON beside the check and comes
 * back as it went in.
 *
 * Formats: hot rows and blocks written before kinds and states (block format 1, hot rows without the
 * flag in the second byte's bit 7) read as they were written: any kind, state or observed they held
 * came back from their JSON extras, and still does. Blocks of formats 1 and 2 escape every Rice code
 * at a quotient of 32; format 3 chooses that point per column. Blocks written before the
 * text threshold are all zstd-compressed; every block says which it is by its first bytes.
 */

/** Latencies are integers of this many per millisecond: the prober measures to 0.01 ms. */
export const LATENCY_SCALE = 100;

/** The numeric fields, in codec order: name, scale (integers per unit) and whether null is valid. */
const NUMBERS = [
  ['slot', 1, false],
  ['startedAt', 1, false],
  ['durationMs', LATENCY_SCALE, false],
  ['dnsMs', LATENCY_SCALE, false],
  ['connectMs', LATENCY_SCALE, false],
  ['tlsMs', LATENCY_SCALE, false],
  ['ttfbMs', LATENCY_SCALE, false],
  ['transferMs', LATENCY_SCALE, false],
  ['status', 1, true],
  ['bytes', 1, false],
  ['tlsExpiresAt', 1, true],
  ['redirects', 1, false],
] as const;
const SLOT = 0;
const STARTED = 1;
const DURATION = 2;
const DNS = 3;
const CONNECT = 4;
const TLS_MS = 5;
const TTFB = 6;
const TRANSFER = 7;
const STATUS = 8;
const BYTES = 9;
const TLS = 10;
const REDIRECTS = 11;
const FIELDS = NUMBERS.length;
/** In a block, scheduledAt is a column too: exceptions name it with this field number. */
const SCHEDULED = FIELDS;

/** The fields a check has besides its numbers; any other is carried as JSON. */
const KNOWN = new Set([
  'tenant',
  'target',
  'region',
  'scheduledAt',
  'slot',
  'startedAt',
  'durationMs',
  'phases',
  'status',
  'httpVersion',
  'bytes',
  'tlsExpiresAt',
  'patternMatched',
  'redirects',
  'ok',
  'error',
  'kind',
  'state',
  'observed',
]);
const PHASES = new Set(['dnsMs', 'connectMs', 'tlsMs', 'ttfbMs', 'transferMs']);
const ERROR = new Set(['class', 'detail']);
/** HTTP versions coded in 4 bits; 15 means the text follows. */
const HTTP_VERSIONS = ['1.1', '1.0', '2.0', '2', '3', '0.9'];
const HTTP_INLINE = 15;
/** Error classes coded in a byte (a block keeps its own dictionary instead); 0 means the text follows. */
const ERROR_CODES = [
  'dns',
  'refused',
  'reset',
  'timeout',
  'tls',
  'unreachable',
  'protocol',
  'redirect',
  'status',
  'pattern',
  'body-too-large',
  'other',
  // Appended with kinds (format 2): earlier codes keep their numbers.
  'assertion',
  'answer',
  'missed',
  'reported',
  'permission',
];
/** Kinds coded in 3 bits (0: none; {@link TEXT_CODE}: the text follows). Append only. */
const KIND_CODES = ['http', 'tcp', 'dns', 'push', 'icmp'];
/** States coded in 3 bits, as kinds. Append only. */
const STATE_CODES = ['up', 'down', 'degraded', 'maintenance'];
const TEXT_CODE = 7;

/** What a series is: the identity a block or a hot row leaves out. */
export interface SeriesKey {
  readonly tenant: string;
  readonly target: string;
  readonly region: string;
}

/** A number as an integer of `scale` per unit when that is exact, else undefined. */
function quantize(value: number, scale: number): number | undefined {
  if (Object.is(value, -0)) return undefined;
  const q = Math.round(value * scale);
  // ±2^52 keeps a zigzag (and a difference of two) a safe integer; Object.is keeps -0 apart from 0.
  return Math.abs(q) <= 2 ** 51 && Object.is(q / scale, value) ? q : undefined;
}

/**
 * One check taken apart: its numbers as integers (0 where the number is an exception), the
 * exceptions, its flags and strings, and the JSON of what the codec does not know.
 */
interface Parts {
  readonly ints: number[];
  /** [field, value] of numbers kept as float64. */
  readonly exceptions: [number, number][];
  /** Which nullable numbers are null (bit per field). */
  nulls: number;
  ok: boolean;
  pattern: 0 | 1 | 2;
  http: string | null;
  errorClass: string | null;
  errorDetail: string | null;
  kind: string | null;
  state: string | null;
  /** `observed` as JSON text, null when the check has none. */
  observed: string | null;
  extras: string | null;
}

const isPlain = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value of numeric field `i` of a check, from its top level or its phases. */
function numberOf(check: CheckRow, i: number): unknown {
  const name = NUMBERS[i]![0];
  return PHASES.has(name)
    ? (check.phases as unknown as Record<string, unknown>)[name]
    : check[name as keyof CheckRow];
}

/**
 * What the codec carries as JSON beside a check: top-level fields it does not know or whose type is
 * unexpected (`f`), the same inside `phases` (`p`) and `error` (`e`), and known fields the check
 * lacks (`a`, as paths), so the check comes back with exactly the keys it had.
 */
interface Extras {
  f?: Record<string, unknown>;
  p?: Record<string, unknown>;
  e?: Record<string, unknown>;
  a?: string[];
}

/** Takes a check apart; `scheduled` is its scheduledAt as the integer the codec uses (0 if inexact). */
function partsOf(check: CheckRow, scheduled: number): Parts {
  const raw = check as unknown as Record<string, unknown>;
  const extras: Extras = {};
  let hasExtras = false;
  const keep = (part: 'f' | 'p' | 'e', key: string, value: unknown) => {
    if (value === undefined) {
      // A field the codec does not know, set to undefined, is no field at all (as in JSON).
      if (part === 'f' && !KNOWN.has(key)) return;
      (extras.a ??= []).push(part === 'f' ? key : `${part === 'p' ? 'phases' : 'error'}.${key}`);
    } else (extras[part] ??= {})[key] = value;
    hasExtras = true;
  };
  for (const key in raw) if (!KNOWN.has(key)) keep('f', key, raw[key]);
  const phasesOk = isPlain(check.phases);
  if (!phasesOk) keep('f', 'phases', check.phases);
  else
    for (const key in check.phases)
      if (!PHASES.has(key)) keep('p', key, (check.phases as unknown as Record<string, unknown>)[key]);

  const ints = new Array<number>(FIELDS).fill(0);
  const exceptions: [number, number][] = [];
  let nulls = 0;
  for (let i = 0; i < FIELDS; i++) {
    const [name, scale, nullable] = NUMBERS[i]!;
    const value = phasesOk || !PHASES.has(name) ? numberOf(check, i) : 0;
    if (value === null && nullable) {
      nulls |= 1 << i;
      continue;
    }
    if (typeof value !== 'number') {
      // A wrong type (or none) comes back from the JSON; the number slot holds 0.
      keep(PHASES.has(name) ? 'p' : 'f', name, value);
      continue;
    }
    const q = quantize(value, scale);
    if (q === undefined) exceptions.push([i, value]);
    else ints[i] = q;
  }
  // Times are kept relative to the slot's start, and the duration as what its phases leave over.
  ints[STARTED] = ints[STARTED]! - scheduled;
  if ((nulls & (1 << TLS)) === 0) ints[TLS] = ints[TLS]! - scheduled;
  let phases = 0;
  for (let i = DNS; i <= TRANSFER; i++) phases += ints[i]!;
  ints[DURATION] = ints[DURATION]! - phases;

  let http: string | null = null;
  if (typeof check.httpVersion === 'string') http = check.httpVersion;
  else if (check.httpVersion !== null) keep('f', 'httpVersion', check.httpVersion);
  let pattern: 0 | 1 | 2 = 0;
  if (check.patternMatched === true) pattern = 2;
  else if (check.patternMatched === false) pattern = 1;
  else if (check.patternMatched !== null) keep('f', 'patternMatched', check.patternMatched);
  if (typeof check.ok !== 'boolean') keep('f', 'ok', check.ok);
  let errorClass: string | null = null;
  let errorDetail: string | null = null;
  const error = check.error as unknown;
  if (isPlain(error) && typeof error.class === 'string' && typeof error.detail === 'string') {
    errorClass = error.class;
    errorDetail = error.detail;
    for (const key in error) if (!ERROR.has(key)) keep('e', key, error[key]);
  } else if (error !== null) keep('f', 'error', error);
  // kind and state are strings when there; another type comes back from the JSON.
  const word = (key: 'kind' | 'state'): string | null => {
    const value = raw[key];
    if (value === undefined) return null;
    if (typeof value === 'string') return value;
    keep('f', key, value);
    return null;
  };
  const kind = word('kind');
  const state = word('state');
  const observed = raw.observed === undefined ? undefined : JSON.stringify(raw.observed);
  return {
    ints,
    exceptions,
    nulls,
    ok: check.ok === true,
    pattern,
    http,
    errorClass,
    errorDetail,
    kind,
    state,
    observed: observed ?? null,
    extras: hasExtras ? JSON.stringify(extras) : null,
  };
}

/** scheduledAt as the integer the codec works from: whole ms, or 0 when it has a fraction. */
const scheduledInt = (at: number) =>
  at > 0 && at <= 2 ** 51 && Math.floor(at) === at ? at : (quantize(at, 1) ?? 0);

const pattern = (flags: number): boolean | null => {
  const p = (flags >> 1) & 3;
  return p === 0 ? null : p === 2;
};

/** Rows a {@link CheckColumns} has room for at first; it doubles as it needs. */
const INITIAL_ROWS = 64;

/** `column` in an array of `size` rows, its first `n` kept. */
function grown<T extends Float64Array | Uint16Array | Uint8Array>(column: T, size: number, n: number): T {
  const out = new (column.constructor as new (size: number) => T)(size);
  out.set(column.subarray(0, n));
  return out;
}

/**
 * Checks of one series as columns: what compaction reads hot rows into, and a block holds. Row k is
 * spread over every column at index k. The numeric columns are typed arrays with room past `n`
 * (made once for a range's rows, not grown a value at a time): only rows below `n` are checks.
 */
export class CheckColumns {
  n = 0;
  /** scheduledAt as given. */
  at: Float64Array;
  /** scheduledAt as the codec's integer (0 when it has a fraction: then it is an exception). */
  scheduled: Float64Array;
  /** The numbers, per field, as integers relative to the slot (0 where null or an exception). */
  readonly ints: Float64Array[];
  /** Which nullable numbers are null, a bit per field. */
  nulls: Uint16Array;
  /** ok (bit 0) and the pattern result (bits 1–2). */
  flags: Uint8Array;
  readonly http: (string | null)[] = [];
  readonly errorClass: (string | null)[] = [];
  readonly errorDetail: (string | null)[] = [];
  readonly kind: (string | null)[] = [];
  readonly state: (string | null)[] = [];
  /** `observed` as JSON text (null: none). */
  readonly observed: (string | null)[] = [];
  readonly extras: (string | null)[] = [];
  /** [row, field, value] of numbers kept as float64. */
  readonly exceptions: [number, number, number][] = [];

  /** Columns with room for `rows` checks before they grow. */
  constructor(rows = INITIAL_ROWS) {
    const size = Math.max(1, rows);
    this.at = new Float64Array(size);
    this.scheduled = new Float64Array(size);
    this.ints = Array.from({ length: FIELDS }, () => new Float64Array(size));
    this.nulls = new Uint16Array(size);
    this.flags = new Uint8Array(size);
  }

  /** The scheduledAt of every row, as a view of the column. */
  times(): Float64Array {
    return this.at.subarray(0, this.n);
  }

  /** Makes room for `more` rows past `n`. */
  #reserve(more: number): void {
    const need = this.n + more;
    if (need <= this.at.length) return;
    const size = Math.max(need, this.at.length * 2);
    const n = this.n;
    this.at = grown(this.at, size, n);
    this.scheduled = grown(this.scheduled, size, n);
    for (let i = 0; i < FIELDS; i++) this.ints[i] = grown(this.ints[i]!, size, n);
    this.nulls = grown(this.nulls, size, n);
    this.flags = grown(this.flags, size, n);
  }

  /** Adds a check of the series. */
  push(check: CheckRow): void {
    this.#reserve(1);
    const at = check.scheduledAt;
    const scheduled = scheduledInt(at);
    const p = partsOf(check, scheduled);
    const k = this.n++;
    this.at[k] = at;
    this.scheduled[k] = scheduled;
    for (let i = 0; i < FIELDS; i++) this.ints[i]![k] = p.ints[i]!;
    this.nulls[k] = p.nulls;
    this.flags[k] = (p.ok ? 1 : 0) | (p.pattern << 1);
    this.http.push(p.http);
    this.errorClass.push(p.errorClass);
    this.errorDetail.push(p.errorDetail);
    this.kind.push(p.kind);
    this.state.push(p.state);
    this.observed.push(p.observed);
    this.extras.push(p.extras);
    for (const [field, value] of p.exceptions) this.exceptions.push([k, field, value]);
  }

  /** Adds a check from a hot row's scheduledAt and body ({@link encodeCheck}). */
  pushBody(at: number, body: Uint8Array): void {
    this.#reserve(1);
    this.#pushFrom(new ByteReader(body), at);
  }

  /** Adds hot rows from their scheduledAt and their bodies back to back, in the same order. */
  pushBodies(at: readonly number[], bodies: Uint8Array): void {
    this.#reserve(at.length);
    const r = new ByteReader(bodies);
    for (const t of at) this.#pushFrom(r, t);
    if (!r.done) throw new RangeError('hot rows have bytes past their last body');
  }

  /**
   * The bodies of `n` checks written back to back ({@link pushBodies}), each on its own again: views
   * into `bodies`, read as far as needed to find where each one ends.
   */
  static splitBodies(bodies: Uint8Array, n: number): Uint8Array[] {
    const scratch = new CheckColumns(n);
    const r = new ByteReader(bodies);
    const out: Uint8Array[] = [];
    for (let i = 0, start = 0; i < n; i++) {
      scratch.#pushFrom(r, 0);
      out.push(bodies.subarray(start, r.position));
      start = r.position;
    }
    if (!r.done) throw new RangeError('hot rows have bytes past their last body');
    return out;
  }

  /** Adds the check whose body `r` reads next (room for it made). */
  #pushFrom(r: ByteReader, at: number): void {
    const flags = r.byte();
    const more = r.byte();
    // Bit 7 of the second byte: a byte of kind (bits 0–2) and observed (bit 3) follows. Hot rows
    // written before have neither, nor a state (bits 4–6).
    const tail = more & 128 ? r.byte() : 0;
    const k = this.n++;
    this.at[k] = at;
    this.scheduled[k] = scheduledInt(at);
    const ints = this.ints;
    ints[SLOT]![k] = r.signed();
    ints[STARTED]![k] = r.signed();
    ints[DURATION]![k] = r.signed();
    ints[DNS]![k] = r.signed();
    ints[CONNECT]![k] = r.signed();
    ints[TLS_MS]![k] = r.signed();
    ints[TTFB]![k] = r.signed();
    ints[TRANSFER]![k] = r.signed();
    ints[STATUS]![k] = flags & 8 ? 0 : r.signed();
    ints[BYTES]![k] = r.signed();
    let expiry = 0;
    if ((flags & 16) === 0) {
      const t = r.varint();
      expiry = t % 2 === 0 ? unzigzag(t / 2) * 1000 : unzigzag((t - 1) / 2);
    }
    ints[TLS]![k] = expiry;
    ints[REDIRECTS]![k] = r.signed();
    this.nulls[k] = (flags & 8 ? 1 << STATUS : 0) | (flags & 16 ? 1 << TLS : 0);
    this.flags[k] = flags & 7;
    const httpCode = more & 15;
    this.http.push(
      httpCode === 0 ? null : httpCode === HTTP_INLINE ? r.string() : HTTP_VERSIONS[httpCode - 1]!,
    );
    if (flags & 32) {
      const code = r.byte();
      this.errorClass.push(code === 0 ? r.string() : ERROR_CODES[code - 1]!);
      this.errorDetail.push(r.string());
    } else {
      this.errorClass.push(null);
      this.errorDetail.push(null);
    }
    this.kind.push(codeOrText(r, tail & 7, KIND_CODES));
    this.state.push(codeOrText(r, (more >> 4) & 7, STATE_CODES));
    this.observed.push(tail & 8 ? r.string() : null);
    this.extras.push(flags & 64 ? r.string() : null);
    if (flags & 128) for (let e = r.varint(); e > 0; e--) this.exceptions.push([k, r.byte(), r.float()]);
  }

  /** Appends the rows of `more`. */
  append(more: CheckColumns): void {
    const offset = this.n;
    const m = more.n;
    this.#reserve(m);
    this.at.set(more.at.subarray(0, m), offset);
    this.scheduled.set(more.scheduled.subarray(0, m), offset);
    for (let i = 0; i < FIELDS; i++) this.ints[i]!.set(more.ints[i]!.subarray(0, m), offset);
    this.nulls.set(more.nulls.subarray(0, m), offset);
    this.flags.set(more.flags.subarray(0, m), offset);
    this.n += m;
    this.http.push(...more.http);
    this.errorClass.push(...more.errorClass);
    this.errorDetail.push(...more.errorDetail);
    this.kind.push(...more.kind);
    this.state.push(...more.state);
    this.observed.push(...more.observed);
    this.extras.push(...more.extras);
    for (const [row, field, value] of more.exceptions) this.exceptions.push([row + offset, field, value]);
  }

  /** Check k, whole again. */
  check(k: number, key: SeriesKey): CheckRow {
    const scheduled = this.scheduled[k]!;
    const nulls = this.nulls[k]!;
    const values = new Array<number | null>(FIELDS);
    let phases = 0;
    for (let i = DNS; i <= TRANSFER; i++) phases += this.ints[i]![k]!;
    for (let i = 0; i < FIELDS; i++) {
      if ((nulls & (1 << i)) !== 0) {
        values[i] = null;
        continue;
      }
      let q = this.ints[i]![k]!;
      if (i === STARTED || i === TLS) q += scheduled;
      else if (i === DURATION) q += phases;
      values[i] = q / NUMBERS[i]![1];
    }
    if (this.hasExceptions)
      for (const [row, i, value] of this.#exceptionsOf(k)) if (row === k) values[i] = value;
    const flags = this.flags[k]!;
    const errorClass = this.errorClass[k]!;
    const check: Record<string, unknown> = {
      tenant: key.tenant,
      target: key.target,
      region: key.region,
      slot: values[SLOT],
      scheduledAt: this.at[k],
      startedAt: values[STARTED],
      durationMs: values[DURATION],
      phases: {
        dnsMs: values[3],
        connectMs: values[4],
        tlsMs: values[5],
        ttfbMs: values[6],
        transferMs: values[7],
      },
      status: values[STATUS],
      httpVersion: this.http[k],
      bytes: values[9],
      tlsExpiresAt: values[TLS],
      patternMatched: pattern(flags),
      redirects: values[11],
      ok: (flags & 1) === 1,
      error: errorClass === null ? null : { class: errorClass, detail: this.errorDetail[k] },
    };
    const kind = this.kind[k];
    if (kind !== null && kind !== undefined) check.kind = kind;
    const state = this.state[k];
    if (state !== null && state !== undefined) check.state = state;
    const observed = this.observed[k];
    if (observed !== null && observed !== undefined) check.observed = JSON.parse(observed) as unknown;
    const extras = this.extras[k];
    if (extras !== null && extras !== undefined) applyExtras(check, JSON.parse(extras) as Extras);
    return check as unknown as CheckRow;
  }

  /** Every check, in row order. */
  checks(key: SeriesKey): CheckRow[] {
    const out = new Array<CheckRow>(this.n);
    for (let k = 0; k < this.n; k++) out[k] = this.check(k, key);
    return out;
  }

  get hasExceptions(): boolean {
    return this.exceptions.length > 0;
  }

  /** Exceptions by row, found once and kept while the columns do not change. */
  #byRow: Map<number, [number, number, number][]> | undefined;
  #exceptionsOf(k: number): readonly [number, number, number][] {
    if (!this.#byRow || this.#byRowSize !== this.exceptions.length) {
      this.#byRow = new Map();
      for (const e of this.exceptions) {
        let list = this.#byRow.get(e[0]);
        if (!list) this.#byRow.set(e[0], (list = []));
        list.push(e);
      }
      this.#byRowSize = this.exceptions.length;
    }
    return this.#byRow.get(k) ?? [];
  }
  #byRowSize = -1;

  /**
   * The same checks in scheduledAt order, at most one per scheduledAt (the first added wins): what a
   * block must hold. Returns this when it is so already.
   */
  normalized(): CheckColumns {
    let ordered = true;
    for (let k = 1; k < this.n && ordered; k++) ordered = this.at[k - 1]! < this.at[k]!;
    if (ordered) return this;
    const order = Array.from({ length: this.n }, (_, k) => k).sort(
      (a, b) => this.at[a]! - this.at[b]! || a - b,
    );
    const out = new CheckColumns(this.n);
    const moved = new Map<number, number>();
    for (const k of order) {
      if (out.n > 0 && out.at[out.n - 1] === this.at[k]) continue;
      moved.set(k, out.n);
      out.#copyRow(this, k);
    }
    for (const [row, field, value] of this.exceptions) {
      const to = moved.get(row);
      if (to !== undefined) out.exceptions.push([to, field, value]);
    }
    return out;
  }

  /** Appends row `k` of `from` (room for it made). */
  #copyRow(from: CheckColumns, k: number): void {
    const to = this.n++;
    this.at[to] = from.at[k]!;
    this.scheduled[to] = from.scheduled[k]!;
    for (let i = 0; i < FIELDS; i++) this.ints[i]![to] = from.ints[i]![k]!;
    this.nulls[to] = from.nulls[k]!;
    this.flags[to] = from.flags[k]!;
    this.http.push(from.http[k]!);
    this.errorClass.push(from.errorClass[k]!);
    this.errorDetail.push(from.errorDetail[k]!);
    this.kind.push(from.kind[k]!);
    this.state.push(from.state[k]!);
    this.observed.push(from.observed[k]!);
    this.extras.push(from.extras[k]!);
  }
}

/** A kind or state read from its 3-bit code: none, one of `codes`, or the text that follows. */
function codeOrText(r: ByteReader, code: number, codes: readonly string[]): string | null {
  if (code === 0) return null;
  if (code === TEXT_CODE) return r.string();
  const word = codes[code - 1];
  if (word === undefined) throw new RangeError(`a check has an unknown code ${code}`);
  return word;
}

/** The 3-bit code of a kind or state (0 for none), whose text follows when it is {@link TEXT_CODE}. */
const codeOf = (word: string | null, codes: readonly string[]): number =>
  word === null ? 0 : codes.indexOf(word) + 1 || TEXT_CODE;

/** Puts back what a check carried as JSON: unknown fields, and the known ones it lacked. */
function applyExtras(check: Record<string, unknown>, extras: Extras): void {
  Object.assign(check, extras.f);
  if (extras.p) Object.assign(check.phases as object, extras.p);
  if (extras.e && check.error) Object.assign(check.error, extras.e);
  for (const path of extras.a ?? []) {
    const [head, key] = path.split('.', 2);
    if (key === undefined) delete check[head!];
    else delete (check[head!] as Record<string, unknown>)[key];
  }
}

// Check body, first byte: ok (bit 0), pattern (bits 1–2), status null (3), TLS null (4), error (5),
// extras (6), exceptions (7). Second byte: the HTTP version's code (bits 0–3), the state's code
// (bits 4–6), and (bit 7) whether a third byte follows: the kind's code (bits 0–2) and whether
// observed is there (bit 3); an http check without observed (most) needs none. Then each number as a
// zigzag varint (TLS expiry relative to the slot, in seconds (even) or milliseconds (odd)), then
// the HTTP version's text if it has no code, the error (class code or 0 and its text, then detail),
// the kind's and the state's text if they have no code, observed's JSON, the extras' JSON and the
// exceptions.

/** A check as the body of a hot row: everything but its series and scheduledAt, about 25–30 bytes. */
export function encodeCheck(check: CheckRow): Uint8Array {
  const p = partsOf(check, scheduledInt(check.scheduledAt));
  const w = new ByteWriter(48);
  const statusNull = (p.nulls & (1 << STATUS)) !== 0;
  const tlsNull = (p.nulls & (1 << TLS)) !== 0;
  w.byte(
    (p.ok ? 1 : 0) |
      (p.pattern << 1) |
      (statusNull ? 8 : 0) |
      (tlsNull ? 16 : 0) |
      (p.errorClass !== null ? 32 : 0) |
      (p.extras !== null ? 64 : 0) |
      (p.exceptions.length > 0 ? 128 : 0),
  );
  const httpCode = p.http === null ? 0 : HTTP_VERSIONS.indexOf(p.http) + 1 || HTTP_INLINE;
  const kindCode = codeOf(p.kind, KIND_CODES);
  const stateCode = codeOf(p.state, STATE_CODES);
  const tail = kindCode | (p.observed !== null ? 8 : 0);
  w.byte(httpCode | (stateCode << 4) | (tail !== 0 ? 128 : 0));
  if (tail !== 0) w.byte(tail);
  for (let i = 0; i < FIELDS; i++) {
    if (i === STATUS && statusNull) continue;
    if (i === TLS) {
      if (tlsNull) continue;
      const rel = p.ints[i]!;
      w.varint(rel % 1000 === 0 ? zigzag(rel / 1000) * 2 : zigzag(rel) * 2 + 1);
      continue;
    }
    w.signed(p.ints[i]!);
  }
  if (httpCode === HTTP_INLINE) w.string(p.http!);
  if (p.errorClass !== null) {
    const code = ERROR_CODES.indexOf(p.errorClass) + 1;
    w.byte(code);
    if (code === 0) w.string(p.errorClass);
    w.string(p.errorDetail!);
  }
  if (kindCode === TEXT_CODE) w.string(p.kind!);
  if (stateCode === TEXT_CODE) w.string(p.state!);
  if (p.observed !== null) w.string(p.observed);
  if (p.extras !== null) w.string(p.extras);
  if (p.exceptions.length > 0) {
    w.varint(p.exceptions.length);
    for (const [field, value] of p.exceptions) {
      w.byte(field);
      w.float(value);
    }
  }
  return w.finish().slice();
}

/** The check a hot row holds, from its series, scheduledAt and body. */
export function decodeCheck(key: SeriesKey, scheduledAt: number, body: Uint8Array): CheckRow {
  const columns = new CheckColumns(1);
  columns.pushBody(scheduledAt, body);
  return columns.check(0, key);
}

// Blocks. An integer column is written in whichever of these modes is shortest: runs of equal values,
// runs of equal differences (times on schedule), or Rice codes of each value's difference from the
// previous one or from the column's median (latencies: noise around a level).
const RUNS = 0;
const DELTA_RUNS = 1;
const RICE_DELTAS = 2;
const RICE_MEDIAN = 3;
/**
 * The block format written; a reader refuses any but this, {@link KINDS_VERSION} and
 * {@link KINDLESS_VERSION}. Format 2 added the kind, state and observed columns after the extras;
 * format 3 a Rice-coded column's escape point, after its k.
 */
const BLOCK_VERSION = 3;
/** Blocks written before kinds and states: no kind, state or observed columns. */
const KINDLESS_VERSION = 1;
/** Blocks written before escape points: every Rice code escaped at {@link RICE_ESCAPE}. */
const KINDS_VERSION = 2;
/**
 * zstd level for blocks. The Rice-coded latencies are near their entropy already; zstd shrinks the
 * rest (dictionaries, runs) and costs little at its default level.
 */
const ZSTD_LEVEL = 3;
/**
 * Bytes of strings and exceptions (the part of a block zstd shrinks) from which a block is compressed;
 * below it the block is its columns as they are, which start with their format (1–3), never with
 * zstd's magic number. On the generated checks zstd made a day's block 10 bytes longer, not shorter.
 */
const ZSTD_MIN_TEXT = 256;

/** Bytes a non-negative safe integer takes as a varint. */
function varintBytes(n: number): number {
  if (n < 128) return 1;
  if (n < 16384) return 2;
  let bytes = 3;
  for (n = Math.floor(n / 2 ** 21); n > 0; n = Math.floor(n / 128)) bytes++;
  return bytes;
}

/** Runs of equal values among the first `n` as (value, count) pairs. */
function writeRuns(w: ByteWriter, values: ArrayLike<number>, n = values.length): void {
  let i = 0;
  while (i < n) {
    const v = values[i]!;
    let j = i + 1;
    while (j < n && values[j] === v) j++;
    w.signed(v);
    w.varint(j - i);
    i = j;
  }
}

/** Bytes {@link writeRuns} would take, or any number above `limit` once it is past it. */
function runsBytes(values: ArrayLike<number>, n: number, limit: number): number {
  let bytes = 0;
  let i = 0;
  while (i < n && bytes <= limit) {
    const v = values[i]!;
    let j = i + 1;
    while (j < n && values[j] === v) j++;
    bytes += varintBytes(zigzag(v)) + varintBytes(j - i);
    i = j;
  }
  return bytes;
}

function readRuns(r: ByteReader, out: { [k: number]: number }, n: number): void {
  let i = 0;
  while (i < n) {
    const v = r.signed();
    const count = r.varint();
    if (count === 0 || i + count > n) throw new RangeError('a block column has runs past its end');
    for (let k = 0; k < count; k++) out[i++] = v;
  }
}

/** Residuals sampled to choose a Rice parameter: enough for a centre, cheap to sort. */
const RICE_SAMPLE = 63;
const riceSample = new Float64Array(RICE_SAMPLE);

/** What {@link bestRice} chooses: the Rice parameter, where codes are escaped, and the bits. */
export interface RiceChoice {
  readonly k: number;
  readonly escape: number;
  readonly bits: number;
}

/** Per candidate k, how many residuals have each quotient below {@link RICE_ESCAPE}. */
const quotients = new Float64Array(3 * RICE_ESCAPE);

/**
 * The Rice parameter and escape point that code `residuals` (zigzagged) in the fewest bits, and
 * those bits.
 */
export function bestRice(residuals: ArrayLike<number>, n: number): RiceChoice {
  // The best k for a geometric distribution is about log2 of its median. The median of a sample is
  // what a few outliers (timeouts, spikes of ten times the level) do not move, as a mean would. The
  // k above it are tried too, in one pass that counts each one's quotients.
  const median = medianOf(residuals, n);
  const k0 = Math.min(22, Math.max(0, Math.floor(Math.log2(median + 1)) - 1));
  quotients.fill(0);
  // Quotients of RICE_ESCAPE or more are escaped at any point: how many, and their values' bits.
  const over = [0, 0, 0];
  const overBits = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const z = residuals[i]!;
    // Past 2^31 every candidate's quotient is past the escape (k ≤ 24).
    const q = z < 2 ** 31 ? z >>> k0 : RICE_ESCAPE << 2;
    if (q < RICE_ESCAPE) {
      quotients[q]!++;
      quotients[RICE_ESCAPE + (q >>> 1)]!++;
      quotients[2 * RICE_ESCAPE + (q >>> 2)]!++;
      continue;
    }
    const bits = bitLength(z);
    for (let c = 0; c < 3; c++) {
      if (q >>> c < RICE_ESCAPE) quotients[c * RICE_ESCAPE + (q >>> c)]!++;
      else {
        over[c]!++;
        overBits[c]! += bits;
      }
    }
  }
  // Each k's cost at every escape point, from the widest down: lowering it by one escapes the codes
  // of that quotient, whose values have k + bitLength(quotient) bits.
  let best: RiceChoice = { k: k0, escape: RICE_ESCAPE, bits: Infinity };
  for (let c = 0; c < 3; c++) {
    const k = k0 + c;
    let coded = 0;
    for (let q = 0; q < RICE_ESCAPE; q++) coded += quotients[c * RICE_ESCAPE + q]! * (q + 1 + k);
    let escaped = over[c]!;
    let escapedBits = overBits[c]!;
    for (let escape = RICE_ESCAPE; escape >= 1; escape--) {
      if (escape < RICE_ESCAPE) {
        const count = quotients[c * RICE_ESCAPE + escape]!;
        coded -= count * (escape + 1 + k);
        escaped += count;
        escapedBits += count * (k + bitLength(escape));
      }
      const bits = coded + escaped * (escape + 6) + escapedBits;
      if (bits < best.bits) best = { k, escape, bits };
    }
  }
  return best;
}

/** A median of `values` from an even sample of at most {@link RICE_SAMPLE} of them. */
function medianOf(values: ArrayLike<number>, n: number): number {
  const step = Math.max(1, Math.floor(n / RICE_SAMPLE));
  let m = 0;
  for (let i = 0; i < n && m < RICE_SAMPLE; i += step) riceSample[m++] = values[i]!;
  return m === 0 ? 0 : selectNth(riceSample, m, m >> 1);
}

/**
 * The `k`-th smallest of `values[0, m)` (reordering them), what sorting them would put at `k`: a
 * quickselect, as a typed array's sort cost more than the rest of encoding a small block.
 */
function selectNth(values: Float64Array, m: number, k: number): number {
  let lo = 0;
  let hi = m - 1;
  while (lo < hi) {
    // Median of three as the pivot: sorted or constant columns (times, status codes) stay linear.
    const mid = (lo + hi) >> 1;
    const a = values[lo]!;
    const b = values[mid]!;
    const c = values[hi]!;
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const t = values[i]!;
        values[i++] = values[j]!;
        values[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return values[k]!;
  }
  return values[k]!;
}

/** Scratch columns for {@link writeInts}, grown as blocks need: a block allocates none of its own. */
let deltas = new Float64Array(2048);
let fromMedian = new Float64Array(2048);
let zDeltas = new Float64Array(2048);
let column = new Float64Array(2048);
let stringCodes = new Float64Array(2048);

/** An integer column of n ≥ 1 values, in its shortest mode. */
function writeInts(w: ByteWriter, values: Float64Array, n: number): void {
  if (deltas.length < n) {
    deltas = new Float64Array(n * 2);
    fromMedian = new Float64Array(n * 2);
    zDeltas = new Float64Array(n * 2);
  }
  const median = medianOf(values, n);
  deltas[0] = values[0]!;
  fromMedian[0] = zigzag(values[0]! - median);
  // Changes of value and of difference: a bound on what runs take, to skip counting their bytes
  // when Rice codes are shorter anyway (latencies).
  let changes = 0;
  let deltaChanges = 0;
  // Sums of the residuals: Rice codes of differences are worth counting only when those are smaller.
  let sumDeltas = 0;
  let sumMedian = fromMedian[0];
  for (let i = 1; i < n; i++) {
    const v = values[i]!;
    const d = v - values[i - 1]!;
    if (d !== 0) changes++;
    if (d !== deltas[i - 1]) deltaChanges++;
    deltas[i] = d;
    const zd = zigzag(d);
    const zm = zigzag(v - median);
    zDeltas[i - 1] = zd;
    fromMedian[i] = zm;
    sumDeltas += zd;
    sumMedian += zm;
  }
  // A run takes at least 2 bytes and a Rice code at least a bit: runs are counted only when they are
  // few, and Rice codes only when runs did not make the column shorter than a bit a value.
  let mode = RUNS;
  let best = changes < n / 4 ? runsBytes(values, n, Infinity) : Infinity;
  if (deltaChanges < n / 4 && deltaChanges < changes) {
    const bytes = runsBytes(deltas, n, best);
    if (bytes < best) [mode, best] = [DELTA_RUNS, bytes];
  }
  let rice: RiceChoice = { k: 0, escape: RICE_ESCAPE, bits: 0 };
  if (best > n / 8) {
    const riceMedian = bestRice(fromMedian, n);
    const medianBytes = varintBytes(zigzag(median)) + 2 + Math.ceil(riceMedian.bits / 8);
    if (medianBytes < best) [mode, best, rice] = [RICE_MEDIAN, medianBytes, riceMedian];
    if (sumDeltas < sumMedian) {
      const riceDeltas = bestRice(zDeltas, n - 1);
      const deltaBytes = varintBytes(zigzag(values[0]!)) + 2 + Math.ceil(riceDeltas.bits / 8);
      if (deltaBytes < best) [mode, rice] = [RICE_DELTAS, riceDeltas];
    }
  }
  w.byte(mode);
  if (mode === RUNS) writeRuns(w, values, n);
  else if (mode === DELTA_RUNS) writeRuns(w, deltas, n);
  else {
    const residuals = mode === RICE_DELTAS ? zDeltas : fromMedian;
    w.signed(mode === RICE_DELTAS ? values[0]! : median);
    w.byte(rice.k);
    w.byte(rice.escape);
    const bits = new BitWriter(w);
    for (let i = 0, count = mode === RICE_DELTAS ? n - 1 : n; i < count; i++)
      bits.rice(residuals[i]!, rice.k, rice.escape);
    bits.flush();
  }
}

/** An integer column of `n` values ({@link writeInts}) into `out`. */
function readInts(r: ByteReader, out: Float64Array, n: number, version: number): void {
  const mode = r.byte();
  if (mode === RUNS || mode === DELTA_RUNS) readRuns(r, out, n);
  else if (mode === RICE_DELTAS || mode === RICE_MEDIAN) {
    const base = r.signed();
    const k = r.byte();
    const escape = version >= 3 ? r.byte() : RICE_ESCAPE;
    if (k > 24 || escape < 1 || escape > RICE_ESCAPE)
      throw new RangeError(`a block column has a Rice code it cannot have (k ${k}, escape ${escape})`);
    const bits = new BitReader(r.buffer, r.position);
    if (mode === RICE_MEDIAN) for (let i = 0; i < n; i++) out[i] = base + unzigzag(bits.rice(k, escape));
    else {
      out[0] = base;
      for (let i = 1; i < n; i++) out[i] = unzigzag(bits.rice(k, escape));
    }
    r.seek(bits.end());
  } else throw new RangeError(`a block column has an unknown mode ${mode}`);
  if (mode === DELTA_RUNS || mode === RICE_DELTAS) for (let i = 1; i < n; i++) out[i] = out[i]! + out[i - 1]!;
}

/** A column of strings (or nulls): a dictionary, then each value's entry (0 for null) in runs. */
function writeStrings(w: ByteWriter, values: readonly (string | null)[]): void {
  const n = values.length;
  if (stringCodes.length < n) stringCodes = new Float64Array(n * 2);
  const dictionary = new Map<string, number>();
  // Neighbours are mostly the same string (or null): the map is asked only when one changes.
  let last: string | null = null;
  let lastCode = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v !== last) {
      last = v;
      if (v === null) lastCode = 0;
      else {
        let code = dictionary.get(v);
        if (code === undefined) dictionary.set(v, (code = dictionary.size + 1));
        lastCode = code;
      }
    }
    stringCodes[i] = lastCode;
  }
  w.varint(dictionary.size);
  for (const s of dictionary.keys()) w.string(s);
  writeRuns(w, stringCodes, n);
}

function readStrings(r: ByteReader, n: number, out: (string | null)[]): void {
  const dictionary: (string | null)[] = [null];
  for (let size = r.varint(); size > 0; size--) dictionary.push(r.string());
  const codes = new Array<number>(n);
  readRuns(r, codes, n);
  for (const code of codes) {
    if (code < 0 || code >= dictionary.length)
      throw new RangeError('a block string is not in its dictionary');
    out.push(dictionary[code]!);
  }
}

/**
 * A closed period of one series as a block: the columns of `columns` (zstd-compressed when they hold
 * text enough, {@link ZSTD_MIN_TEXT}), which must be
 * {@link CheckColumns.normalized} (scheduledAt order, one check per scheduledAt) and not empty.
 */
export function encodeBlock(columns: CheckColumns): Buffer {
  const n = columns.n;
  const w = new ByteWriter(n * 12 + 256);
  w.varint(BLOCK_VERSION);
  w.varint(n);
  if (column.length < n) column = new Float64Array(n * 2);
  writeInts(w, columns.scheduled, n);
  const nulls = columns.nulls;
  for (let i = 0; i < FIELDS; i++) {
    const ints = columns.ints[i]!;
    if (!NUMBERS[i]![2]) writeInts(w, ints, n);
    else {
      // A nullable column shifts its values up by one to keep 0 for null.
      const bit = 1 << i;
      for (let k = 0; k < n; k++) column[k] = (nulls[k]! & bit) !== 0 ? 0 : zigzag(ints[k]!) + 1;
      writeInts(w, column, n);
    }
  }
  writeRuns(w, columns.flags, n);
  const text = w.length;
  writeStrings(w, columns.http);
  writeStrings(w, columns.errorClass);
  writeStrings(w, columns.errorDetail);
  writeStrings(w, columns.extras);
  writeStrings(w, columns.kind);
  writeStrings(w, columns.state);
  writeStrings(w, columns.observed);
  const exceptions = [...columns.exceptions];
  for (let k = 0; k < n; k++) {
    const at = columns.at[k]!;
    if (quantize(at, 1) === undefined) exceptions.push([k, SCHEDULED, at]);
  }
  w.varint(exceptions.length);
  for (const [row, field, value] of exceptions) {
    w.varint(row);
    w.byte(field);
    w.float(value);
  }
  const out = w.finish();
  // zstd finds nothing to shrink in Rice codes and runs, and costs about 30 µs a block to set up:
  // only a block with text enough to shrink (error details, extras) is compressed.
  if (w.length - text < ZSTD_MIN_TEXT) return Buffer.from(out.buffer, out.byteOffset, out.length);
  return zstdCompressSync(out, { params: { [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } });
}

/** True when `data` is a zstd frame (its magic number, little-endian 0xFD2FB528). */
const isZstd = (data: Uint8Array): boolean =>
  data.length >= 4 && data[0] === 0x28 && data[1] === 0xb5 && data[2] === 0x2f && data[3] === 0xfd;

/** The columns of a block ({@link encodeBlock}, compressed or not). */
export function decodeBlock(data: Uint8Array): CheckColumns {
  const r = new ByteReader(isZstd(data) ? zstdDecompressSync(data) : data);
  const version = r.varint();
  if (version !== BLOCK_VERSION && version !== KINDS_VERSION && version !== KINDLESS_VERSION)
    throw new RangeError(`check block format ${version} is not one this Beacon reads`);
  const n = r.varint();
  const columns = new CheckColumns(n);
  columns.n = n;
  readInts(r, columns.scheduled, n, version);
  columns.at.set(columns.scheduled.subarray(0, n));
  const nulls = columns.nulls;
  for (let i = 0; i < FIELDS; i++) {
    const values = columns.ints[i]!;
    readInts(r, values, n, version);
    if (NUMBERS[i]![2]) {
      for (let k = 0; k < n; k++) {
        if (values[k] === 0) nulls[k] = nulls[k]! | (1 << i);
        else values[k] = unzigzag(values[k]! - 1);
      }
    }
  }
  readRuns(r, columns.flags, n);
  readStrings(r, n, columns.http);
  readStrings(r, n, columns.errorClass);
  readStrings(r, n, columns.errorDetail);
  readStrings(r, n, columns.extras);
  if (version === KINDLESS_VERSION)
    for (let k = 0; k < n; k++) {
      columns.kind.push(null);
      columns.state.push(null);
      columns.observed.push(null);
    }
  else {
    readStrings(r, n, columns.kind);
    readStrings(r, n, columns.state);
    readStrings(r, n, columns.observed);
  }
  for (let count = r.varint(); count > 0; count--) {
    const row = r.varint();
    const field = r.byte();
    const value = r.float();
    if (row >= n) throw new RangeError('a block exception is past its last row');
    if (field === SCHEDULED) columns.at[row] = value;
    else columns.exceptions.push([row, field, value]);
  }
  return columns;
}
