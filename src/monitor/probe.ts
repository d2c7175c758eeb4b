import http, { type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { createSecureContext, type TLSSocket } from 'node:tls';
import type { RE2JS } from 're2js';
import { describeFailure, evaluateAssertions } from './assertions.ts';
import type { CheckState, ErrorClass, Phases, ProbeResult } from './model.ts';
import { statusRanges, type HttpSpec } from './target.ts';

/** What a check needs of a target's spec; the prober keeps only this of each target between checks. */
export type ProbeSpec = Pick<
  HttpSpec,
  | 'url'
  | 'method'
  | 'headers'
  | 'body'
  | 'timeoutMs'
  | 'expectStatus'
  | 'pattern'
  | 'patternMustMatch'
  | 'maxRedirects'
  | 'maxBodyBytes'
  | 'ignoreTlsErrors'
  | 'assertions'
  | 'degradedAboveMs'
>;

/** A successful check's state: degraded when slower than the target allows, else up. */
const upState = (durationMs: number, degradedAboveMs: number | undefined): CheckState =>
  degradedAboveMs !== undefined && durationMs > degradedAboveMs ? 'degraded' : 'up';

const NO_PHASES: Phases = { dnsMs: 0, connectMs: 0, tlsMs: 0, ttfbMs: 0, transferMs: 0 };

/**
 * The result of a check that speaks no HTTP (tcp, dns, push, icmp): ok when there is no error, its
 * state from the duration, and the HTTP fields empty.
 */
export function kindResult(r: {
  readonly startedAt: number;
  readonly durationMs: number;
  readonly error: ProbeResult['error'];
  readonly degradedAboveMs: number | undefined;
  readonly phases?: Phases;
  readonly tlsExpiresAt?: number | null;
  readonly observed?: ProbeResult['observed'];
}): ProbeResult {
  return {
    ok: r.error === null,
    state: r.error === null ? upState(r.durationMs, r.degradedAboveMs) : 'down',
    startedAt: r.startedAt,
    durationMs: r.durationMs,
    phases: r.phases ?? NO_PHASES,
    status: null,
    httpVersion: null,
    bytes: 0,
    tlsExpiresAt: r.tlsExpiresAt ?? null,
    patternMatched: null,
    redirects: 0,
    error: r.error,
    ...(r.observed === undefined ? {} : { observed: r.observed }),
  };
}

/** A target ready to probe: its spec with the pattern compiled and statuses parsed once. */
export interface ProbePlan {
  readonly spec: ProbeSpec;
  readonly pattern: RE2JS | undefined;
  readonly statuses: readonly (readonly [number, number])[];
  /** The request headers, user agent included, built once rather than per check. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Parts that many targets share (compiled patterns, status ranges, header sets), so that 20,000
 * targets with the same pattern hold one compiled RE2 program (about 4 KB each) rather than 20,000.
 * A prober builds one per reload, so what no target uses any more is dropped with it.
 */
export class PlanParts {
  readonly #compile: (pattern: string) => RE2JS;
  readonly #patterns = new Map<string, RE2JS>();
  readonly #statuses = new Map<string, readonly (readonly [number, number])[]>();
  readonly #expect = new Map<string, string[]>();
  readonly #headers = new Map<string, Readonly<Record<string, string>>>();

  constructor(compile: (pattern: string) => RE2JS) {
    this.#compile = compile;
  }

  pattern(source: string): RE2JS {
    let compiled = this.#patterns.get(source);
    if (!compiled) this.#patterns.set(source, (compiled = this.#compile(source)));
    return compiled;
  }

  statuses(expect: readonly string[]): readonly (readonly [number, number])[] {
    const key = expect.join(',');
    let ranges = this.#statuses.get(key);
    if (!ranges) this.#statuses.set(key, (ranges = statusRanges(expect)));
    return ranges;
  }

  /** One copy of each list of expected statuses (20,000 targets kept 20,000 equal lists, about 1 MB). */
  expect(expect: string[]): string[] {
    const key = expect.join(',');
    let list = this.#expect.get(key);
    if (!list) this.#expect.set(key, (list = expect));
    return list;
  }

  headers(own: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
    const key = JSON.stringify(own);
    let headers = this.#headers.get(key);
    if (!headers) this.#headers.set(key, (headers = { 'user-agent': 'Beacon-Monitor/1', ...own }));
    return headers;
  }
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
const NO_ASSERTIONS: ProbeSpec['assertions'] = [];

/**
 * Prepares a spec for checking. Only the fields a check reads are copied, so a whole stored target
 * (name, tags, incident settings, timestamps) is not kept alive per target.
 */
export function planFor(spec: ProbeSpec, parts: PlanParts | ((pattern: string) => RE2JS)): ProbePlan {
  const shared = parts instanceof PlanParts ? parts : new PlanParts(parts);
  const slim: ProbeSpec = {
    url: spec.url,
    method: spec.method,
    headers: Object.keys(spec.headers).length === 0 ? NO_HEADERS : spec.headers,
    timeoutMs: spec.timeoutMs,
    expectStatus: shared.expect(spec.expectStatus),
    patternMustMatch: spec.patternMustMatch,
    maxRedirects: spec.maxRedirects,
    maxBodyBytes: spec.maxBodyBytes,
    ignoreTlsErrors: spec.ignoreTlsErrors,
    assertions: spec.assertions.length === 0 ? NO_ASSERTIONS : spec.assertions,
    ...(spec.degradedAboveMs === undefined ? {} : { degradedAboveMs: spec.degradedAboveMs }),
    ...(spec.body === undefined ? {} : { body: spec.body }),
    ...(spec.pattern === undefined ? {} : { pattern: spec.pattern }),
  };
  return {
    spec: slim,
    pattern: spec.pattern === undefined ? undefined : shared.pattern(spec.pattern),
    statuses: shared.statuses(spec.expectStatus),
    headers: shared.headers(spec.headers),
  };
}

class ProbeFailure extends Error {
  readonly errorClass: ErrorClass;
  constructor(errorClass: ErrorClass, detail: string) {
    super(detail);
    this.errorClass = errorClass;
  }
}

const TLS_CODES = /^(CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|ERR_TLS_|ERR_SSL_|HOSTNAME_MISMATCH|ERR_OSSL)/;

/** Maps a socket or parser error to its class, so users see "refused" rather than a stack trace. */
export function classify(err: unknown): { class: ErrorClass; detail: string } {
  if (err instanceof ProbeFailure) return { class: err.errorClass, detail: err.message };
  const e = err as NodeJS.ErrnoException & { reason?: string };
  const code = e.code ?? '';
  const detail = code ? `${code}: ${e.message}` : e.message;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'EAI_NODATA')
    return { class: 'dns', detail };
  if (code === 'ECONNREFUSED') return { class: 'refused', detail };
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED') return { class: 'reset', detail };
  if (code === 'ETIMEDOUT') return { class: 'timeout', detail };
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL')
    return { class: 'unreachable', detail };
  if (TLS_CODES.test(code) || /SSL|TLS|certificate/i.test(e.message)) return { class: 'tls', detail };
  if (code.startsWith('HPE_') || code === 'ERR_INVALID_URL' || code === 'ERR_INVALID_PROTOCOL')
    return { class: 'protocol', detail };
  if (e.message === 'socket hang up') return { class: 'reset', detail };
  return { class: 'other', detail };
}

// One agent per protocol for every check. Neither keeps sockets alive nor queues requests (no socket
// limit), so every request still opens its own connection and DNS, connect and TLS are measured each
// time; `agent: false` gave the same connections but built a whole Agent per request, about a quarter
// of what a check allocated. The TLS agent caches no sessions, so each handshake is a full one.
const httpAgent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
const httpsAgent = new https.Agent({ keepAlive: false, maxSockets: Infinity, maxCachedSessions: 0 });
// Built once, lazily: without it every TLS connection builds a context with the root certificates.
let secureContext: ReturnType<typeof createSecureContext> | undefined;

/** The request a check is making now, so its deadline can end it (cheaper than an AbortSignal). */
interface InFlight {
  request: ClientRequest | undefined;
}

interface Hop {
  readonly phases: Phases;
  readonly status: number;
  readonly httpVersion: string;
  readonly location: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer | undefined;
  readonly bytes: number;
  readonly tlsExpiresAt: number | null;
}

/**
 * One request on its own fresh connection (no agent, no keep-alive), so DNS, connect and TLS are
 * really measured every time. The body is read up to `maxBodyBytes` (+1 to detect overflow).
 */
function request(
  url: URL,
  plan: ProbePlan,
  inFlight: InFlight,
  timings: { tlsExpiresAt: number | null },
): Promise<Hop> {
  const { spec } = plan;
  const secure = url.protocol === 'https:';
  const client = secure ? https : http;
  const t0 = performance.now();
  let dnsAt = t0;
  let connectAt = t0;
  let tlsAt = t0;
  return new Promise<Hop>((resolve, reject) => {
    const req = client.request(url, {
      method: spec.method,
      headers: plan.headers,
      agent: secure ? httpsAgent : httpAgent,
      rejectUnauthorized: !spec.ignoreTlsErrors,
      ...(secure ? { secureContext: (secureContext ??= createSecureContext()) } : {}),
    });
    inFlight.request = req;
    req.on('socket', (socket: Socket) => {
      socket.once('lookup', () => (dnsAt = connectAt = tlsAt = performance.now()));
      socket.once('connect', () => (connectAt = tlsAt = performance.now()));
      if (secure) {
        socket.once('secureConnect', () => {
          tlsAt = performance.now();
          const cert = (socket as TLSSocket).getPeerCertificate();
          if (cert?.valid_to) timings.tlsExpiresAt = Date.parse(cert.valid_to);
        });
      }
    });
    req.on('error', reject);
    req.on('response', (res: IncomingMessage) => {
      const headersAt = performance.now();
      const status = res.statusCode ?? 0;
      const location = typeof res.headers.location === 'string' ? res.headers.location : undefined;
      const keep = spec.pattern !== undefined || spec.assertions.some((a) => a.type === 'json');
      const chunks: Buffer[] = [];
      let bytes = 0;
      let firstByteAt: number | undefined;
      res.on('data', (chunk: Buffer) => {
        firstByteAt ??= performance.now();
        bytes += chunk.length;
        if (bytes > spec.maxBodyBytes) {
          res.destroy();
          req.destroy();
          reject(new ProbeFailure('body-too-large', `body exceeds ${spec.maxBodyBytes} bytes`));
          return;
        }
        if (keep) chunks.push(chunk);
      });
      res.on('error', reject);
      res.on('end', () => {
        const end = performance.now();
        const dnsMs = dnsAt - t0;
        const connectMs = connectAt - dnsAt;
        const tlsMs = secure ? tlsAt - connectAt : 0;
        const sentAt = secure ? tlsAt : connectAt;
        resolve({
          phases: round({
            dnsMs,
            connectMs,
            tlsMs,
            ttfbMs: headersAt - sentAt,
            transferMs: end - (firstByteAt !== undefined ? Math.min(firstByteAt, headersAt) : headersAt),
          }),
          status,
          httpVersion: res.httpVersion,
          location,
          headers: res.headers,
          body: keep ? Buffer.concat(chunks) : undefined,
          bytes,
          tlsExpiresAt: timings.tlsExpiresAt,
        });
      });
    });
    if (spec.body !== undefined) req.write(spec.body);
    req.end();
  });
}

function round(p: Phases): Phases {
  const r = (n: number) => Math.max(0, Math.round(n * 100) / 100);
  return {
    dnsMs: r(p.dnsMs),
    connectMs: r(p.connectMs),
    tlsMs: r(p.tlsMs),
    ttfbMs: r(p.ttfbMs),
    transferMs: r(p.transferMs),
  };
}

const ZERO: Phases = { dnsMs: 0, connectMs: 0, tlsMs: 0, ttfbMs: 0, transferMs: 0 };

/**
 * Probes a target once: follows up to `maxRedirects` redirects (each on a fresh connection), then
 * judges the last response by status and pattern. Never throws: every failure is a classified result.
 */
export async function probe(plan: ProbePlan): Promise<ProbeResult> {
  const { spec } = plan;
  const startedAt = Date.now();
  const t0 = performance.now();
  const inFlight: InFlight = { request: undefined };
  let timedOut: ProbeFailure | undefined;
  const timer = setTimeout(() => {
    timedOut = new ProbeFailure('timeout', `no complete answer within ${spec.timeoutMs} ms`);
    inFlight.request?.destroy(timedOut);
  }, spec.timeoutMs);
  const timings = { tlsExpiresAt: null as number | null };
  let hop: Hop | undefined;
  let redirects = 0;
  try {
    let url = new URL(spec.url);
    for (;;) {
      // The deadline may pass between two hops of a redirect chain, when no request is there to end.
      if (timedOut) throw timedOut;
      hop = await request(url, plan, inFlight, timings);
      if (hop.status >= 300 && hop.status < 400 && hop.location !== undefined && spec.maxRedirects > 0) {
        if (redirects >= spec.maxRedirects) {
          throw new ProbeFailure('redirect', `more than ${spec.maxRedirects} redirects`);
        }
        redirects += 1;
        url = new URL(hop.location, url);
        continue;
      }
      break;
    }
    const { status } = hop;
    const durationMs = Math.round((performance.now() - t0) * 100) / 100;
    const statusOk = plan.statuses.some(([lo, hi]) => status >= lo && status <= hi);
    let patternMatched: boolean | null = null;
    if (plan.pattern && hop.body) patternMatched = plan.pattern.test(hop.body.toString('utf8'));
    const assertions =
      spec.assertions.length === 0
        ? undefined
        : evaluateAssertions(spec.assertions, { body: hop.body, headers: hop.headers, durationMs });
    const failed = assertions?.findIndex((r) => !r.ok) ?? -1;
    let error: ProbeResult['error'] = null;
    if (!statusOk)
      error = { class: 'status', detail: `status ${status} not in ${spec.expectStatus.join(', ')}` };
    else if (patternMatched !== null && patternMatched !== spec.patternMustMatch) {
      error = {
        class: 'pattern',
        detail: spec.patternMustMatch ? 'pattern not found in body' : 'forbidden pattern found in body',
      };
    } else if (failed >= 0) {
      error = { class: 'assertion', detail: describeFailure(spec.assertions[failed]!, assertions![failed]!) };
    }
    return {
      ok: error === null,
      state: error === null ? upState(durationMs, spec.degradedAboveMs) : 'down',
      startedAt,
      durationMs,
      phases: hop.phases,
      status,
      httpVersion: hop.httpVersion,
      bytes: hop.bytes,
      tlsExpiresAt: timings.tlsExpiresAt,
      patternMatched,
      redirects,
      error,
      ...(assertions ? { observed: { assertions } } : {}),
    };
  } catch (err) {
    const reason = timedOut ?? err;
    return {
      ok: false,
      state: 'down',
      startedAt,
      durationMs: Math.round((performance.now() - t0) * 100) / 100,
      phases: hop?.phases ?? ZERO,
      status: null,
      httpVersion: null,
      bytes: 0,
      tlsExpiresAt: timings.tlsExpiresAt,
      patternMatched: null,
      redirects,
      error: classify(reason),
    };
  } finally {
    clearTimeout(timer);
  }
}
