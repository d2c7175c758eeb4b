import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { RE2JS, RE2JSException } from 're2js';
import Type, { type TSchema } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';
import Value from 'typebox/value';
import { assertionProblem, AssertionSchema } from './assertions.ts';

/** Where a target was defined: the API, or the watched YAML file (monitoring as code). */
export type TargetSource = 'api' | 'file';

/** What a monitor checks: an HTTP answer, a TCP (or TLS) connect, a DNS answer, a heartbeat, a ping. */
export const MONITOR_KINDS = ['http', 'tcp', 'dns', 'push', 'icmp'] as const;
export type MonitorKind = (typeof MONITOR_KINDS)[number];

/** Largest body a check reads; beyond a target's limit the check fails with `body-too-large`. */
export const MAX_BODY_LIMIT = 16 * 1024 * 1024;

/** Record types a `dns` target may ask for. */
export const DNS_RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'NS', 'SOA', 'SRV', 'CAA'] as const;
export type DnsRecordType = (typeof DNS_RECORD_TYPES)[number];

/** Fields every kind has: naming, schedule, incident thresholds, degradation, tags. */
const common = {
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Display name.' })),
  intervalSeconds: Type.Integer({
    minimum: 1,
    maximum: 86400,
    default: 60,
    description: 'How often to check: one check per slot of this length (1 s to 24 h).',
  }),
  timeoutMs: Type.Integer({
    minimum: 100,
    maximum: 120000,
    default: 10000,
    description: 'Whole-check deadline; at most the interval (default 10 s, or the interval if shorter).',
  }),
  downAfter: Type.Integer({
    minimum: 1,
    maximum: 100,
    default: 3,
    description: 'Consecutive failed checks (per region) that open an incident.',
  }),
  upAfter: Type.Integer({
    minimum: 1,
    maximum: 100,
    default: 2,
    description: 'Consecutive successful checks (per region) that close it.',
  }),
  degradedAboveMs: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 600000,
      description:
        'A check that succeeds but takes longer than this (ms) is `degraded`: up, and alerted on its own.',
    }),
  ),
  tags: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
    default: [],
    maxItems: 32,
    description: 'Free-form labels; alert rules and maintenance windows can select targets by them.',
  }),
  paused: Type.Optional(
    Type.Boolean({
      description:
        'True: the prober skips it (its state reads `paused`) until it is resumed (false or absent).',
    }),
  ),
};

const tlsExpiryDays = Type.Array(Type.Integer({ minimum: 1, maximum: 365 }), {
  default: [21, 14, 7],
  maxItems: 10,
  description: 'Days before the certificate expires to warn, once per threshold per certificate.',
});
const ignoreTlsErrors = Type.Boolean({
  default: false,
  description: 'Accept invalid certificates (the expiry is still recorded).',
});
const host = Type.String({ minLength: 1, maxLength: 253, description: 'Host name or IP address.' });

/** An HTTP(S) target: today's checks, plus assertions on the JSON body, headers and response time. */
export const HttpSpecSchema = Type.Object(
  {
    kind: Type.Optional(Type.Literal('http', { description: 'What to check (default http).' })),
    ...common,
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'http:// or https:// URL to check.' }),
    method: Type.Union(
      [
        Type.Literal('GET'),
        Type.Literal('HEAD'),
        Type.Literal('POST'),
        Type.Literal('PUT'),
        Type.Literal('PATCH'),
        Type.Literal('DELETE'),
        Type.Literal('OPTIONS'),
      ],
      { default: 'GET', description: 'HTTP method.' },
    ),
    headers: Type.Record(Type.String({ pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" }), Type.String(), {
      default: {},
      maxProperties: 50,
      description: 'Request headers.',
    }),
    body: Type.Optional(Type.String({ maxLength: 65536, description: 'Request body.' })),
    expectStatus: Type.Array(Type.String({ pattern: '^[1-5][0-9]{2}(-[1-5][0-9]{2})?$' }), {
      minItems: 1,
      maxItems: 20,
      default: ['200-399'],
      description: 'Statuses that count as up: codes ("204") or ranges ("200-399").',
    }),
    pattern: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1000,
        description: 'RE2 regular expression searched for in the body (linear time: it cannot stall).',
      }),
    ),
    patternMustMatch: Type.Boolean({
      default: true,
      description: 'True: the pattern must be found; false: it must not be.',
    }),
    assertions: Type.Array(AssertionSchema, {
      default: [],
      maxItems: 20,
      description:
        'Conditions on the JSON body, headers and response time; a failed one makes the check down.',
    }),
    maxRedirects: Type.Integer({
      minimum: 0,
      maximum: 10,
      default: 0,
      description: 'Redirects to follow (each on a fresh connection); 0 judges the 3xx itself.',
    }),
    maxBodyBytes: Type.Integer({
      minimum: 0,
      maximum: MAX_BODY_LIMIT,
      default: 1048576,
      description: 'Most body bytes read; a longer body fails the check with body-too-large.',
    }),
    ignoreTlsErrors,
    tlsExpiryDays,
  },
  { additionalProperties: false, description: 'An HTTP(S) check.' },
);

/** A TCP connect, optionally with a TLS handshake (whose certificate expiry is then watched). */
export const TcpSpecSchema = Type.Object(
  {
    kind: Type.Literal('tcp'),
    ...common,
    host,
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    tls: Type.Boolean({ default: false, description: 'Make a TLS handshake after connecting.' }),
    servername: Type.Optional(
      Type.String({ minLength: 1, maxLength: 253, description: 'TLS SNI name (default: host).' }),
    ),
    ignoreTlsErrors,
    tlsExpiryDays,
  },
  { additionalProperties: false, description: 'A TCP (or TLS) connect check.' },
);

/** A DNS lookup of one record type, optionally at a given resolver, with expected values. */
export const DnsSpecSchema = Type.Object(
  {
    kind: Type.Literal('dns'),
    ...common,
    query: Type.String({ minLength: 1, maxLength: 253, description: 'The name to look up.' }),
    recordType: Type.Enum(DNS_RECORD_TYPES, { default: 'A', description: 'Record type.' }),
    resolver: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description:
          'Resolver to ask, `address` or `address:port` (IPv6 in brackets); default the system resolver.',
      }),
    ),
    expect: Type.Array(Type.String({ minLength: 1, maxLength: 1000 }), {
      default: [],
      maxItems: 50,
      description:
        'Values that must be in the answer (A: "192.0.2.1"; MX: "10 mail.example.com"; SRV: "prio weight port target"; CAA: "0 issue ca.example"; TXT: the joined text; names without the final dot).',
    }),
    expectExact: Type.Boolean({
      default: false,
      description: 'The answer must hold exactly the expected values.',
    }),
  },
  { additionalProperties: false, description: 'A DNS check.' },
);

/** A heartbeat: a cron job or service calls its secret URL; none within interval + grace is down. */
export const PushSpecSchema = Type.Object(
  {
    kind: Type.Literal('push'),
    ...common,
    graceSeconds: Type.Integer({
      minimum: 0,
      maximum: 86400,
      default: 0,
      description: 'Extra time after the interval before a missing push counts as down.',
    }),
    pushToken: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9_-]{16,128}$',
        description:
          'The secret in the push URL (/v1/push/TOKEN); generated when absent from the API, required in the file.',
      }),
    ),
  },
  { additionalProperties: false, description: 'A push (heartbeat) check.' },
);

/** An ICMP echo, through the system's `ping`. */
export const IcmpSpecSchema = Type.Object(
  {
    kind: Type.Literal('icmp'),
    ...common,
    host,
    packets: Type.Integer({ minimum: 1, maximum: 10, default: 3, description: 'Echo requests per check.' }),
  },
  { additionalProperties: false, description: 'An ICMP ping check.' },
);

/** Each kind's schema, by kind. */
export const KIND_SCHEMAS = {
  http: HttpSpecSchema,
  tcp: TcpSpecSchema,
  dns: DnsSpecSchema,
  push: PushSpecSchema,
  icmp: IcmpSpecSchema,
} as const;

/**
 * What a user declares about a target, in the API and in the YAML file alike: one of the kinds. The
 * same schemas validate both and document the API.
 */
export const TargetSpecSchema = Type.Union([
  HttpSpecSchema,
  TcpSpecSchema,
  DnsSpecSchema,
  PushSpecSchema,
  IcmpSpecSchema,
]);

export type HttpSpec = Type.Static<typeof HttpSpecSchema>;
export type TcpSpec = Type.Static<typeof TcpSpecSchema>;
export type DnsSpec = Type.Static<typeof DnsSpecSchema>;
export type PushSpec = Type.Static<typeof PushSpecSchema>;
export type IcmpSpec = Type.Static<typeof IcmpSpecSchema>;
export type TargetSpec = HttpSpec | TcpSpec | DnsSpec | PushSpec | IcmpSpec;

/** A target's kind (a spec without one is http, as every target was before kinds). */
export const kindOf = (spec: Pick<TargetSpec, 'kind'>): MonitorKind => spec.kind ?? 'http';

/** What identifies and dates a stored target. */
export interface TargetMeta {
  readonly id: string;
  readonly tenant: string;
  readonly source: TargetSource;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A target as stored: its spec plus identity and bookkeeping. */
export type Target = TargetSpec & TargetMeta;

/** What a user declared about a target: the target without its identity and bookkeeping. */
export function specOf(target: Target): TargetSpec {
  const { id: _id, tenant: _tenant, source: _source, createdAt: _c, updatedAt: _u, ...spec } = target;
  return spec;
}

/** One problem with a target definition; `path` is a JSON pointer into it (`/expectStatus/0`). */
export interface TargetProblem {
  readonly path: string;
  readonly message: string;
}

/** The inclusive status ranges a spec accepts. */
export function statusRanges(expect: readonly string[]): [number, number][] {
  return expect.map((s) => {
    const [lo, hi] = s.split('-').map(Number) as [number, number | undefined];
    return [lo, hi ?? lo];
  });
}

/** Compiles a target's pattern with RE2 (no backtracking); throws RE2JSException on bad syntax. */
export function compilePattern(pattern: string): RE2JS {
  return RE2JS.compile(pattern);
}

/** A fresh push token: 144 random bits, URL-safe. */
export const newPushToken = (): string => randomBytes(18).toString('base64url');

const HOST_NAME =
  /^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** True for a host name or an IP address. */
const isHost = (h: string) => isIP(h) !== 0 || HOST_NAME.test(h);

/** `address` or `address:port` (`[v6]:port`) of a resolver, or undefined when it is neither. */
export function resolverAddress(text: string): string | undefined {
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::([0-9]{1,5}))?$/.exec(text);
  if (bracketed)
    return isIP(bracketed[1]!) === 6 && (!bracketed[2] || Number(bracketed[2]) <= 65535) ? text : undefined;
  if (isIP(text) !== 0) return text;
  const m = /^([0-9.]+):([0-9]{1,5})$/.exec(text);
  return m && isIP(m[1]!) === 4 && Number(m[2]) >= 1 && Number(m[2]) <= 65535 ? text : undefined;
}

/** The schema's errors as problems, unknown fields named as such. */
function schemaProblems(schema: TSchema, value: unknown): TargetProblem[] {
  return [...Value.Errors(schema, value)].map((e) => ({
    path: e.instancePath,
    message:
      e.keyword === 'boolean' || e.keyword === 'additionalProperties' ? 'is not a known field' : e.message,
  }));
}

/** Assertions are a union; each is checked against the member its `type` names, for a precise message. */
function assertionProblems(assertions: unknown): TargetProblem[] {
  if (!Array.isArray(assertions)) return [];
  const members = AssertionSchema.anyOf;
  return assertions.flatMap((a: unknown, i) => {
    const type = (a as { type?: unknown } | null)?.type;
    const member = members.find((m) => m.properties.type.const === type);
    if (!member) return [{ path: `/assertions/${i}/type`, message: 'must be json, header or responseTime' }];
    return schemaProblems(member, a).map((p) => ({ ...p, path: `/assertions/${i}${p.path}` }));
  });
}

function httpProblems(spec: HttpSpec): TargetProblem[] {
  const problems: TargetProblem[] = [];
  let url: URL | undefined;
  try {
    url = new URL(spec.url);
  } catch {
    problems.push({ path: '/url', message: 'is not a URL' });
  }
  if (url && url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.push({ path: '/url', message: 'must be http:// or https://' });
  }
  spec.expectStatus.forEach((s, i) => {
    const [lo, hi] = statusRanges([s])[0]!;
    if (hi < lo) problems.push({ path: `/expectStatus/${i}`, message: 'range ends before it starts' });
  });
  if (spec.pattern !== undefined) {
    try {
      compilePattern(spec.pattern);
    } catch (err) {
      if (!(err instanceof RE2JSException)) throw err;
      problems.push({ path: '/pattern', message: `is not a valid RE2 pattern: ${err.message}` });
    }
  }
  if (spec.body !== undefined && (spec.method === 'GET' || spec.method === 'HEAD')) {
    problems.push({ path: '/body', message: `cannot be sent with ${spec.method}` });
  }
  spec.assertions.forEach((a, i) => {
    const problem = assertionProblem(a);
    if (problem) problems.push({ path: `/assertions/${i}`, message: problem });
  });
  return problems;
}

/** What a schema cannot say about each kind. */
function kindProblems(spec: TargetSpec): TargetProblem[] {
  switch (spec.kind) {
    case undefined:
    case 'http':
      return httpProblems(spec);
    case 'tcp':
    case 'icmp':
      return isHost(spec.host) ? [] : [{ path: '/host', message: 'is not a host name or IP address' }];
    case 'dns': {
      const problems: TargetProblem[] = [];
      if (!HOST_NAME.test(spec.query) && !(spec.recordType === 'TXT' && /^[\x21-\x7e]+$/.test(spec.query)))
        problems.push({ path: '/query', message: 'is not a DNS name' });
      if (spec.resolver !== undefined && resolverAddress(spec.resolver) === undefined)
        problems.push({ path: '/resolver', message: 'must be an IP address, optionally with :port' });
      if (spec.expectExact && spec.expect.length === 0)
        problems.push({ path: '/expectExact', message: 'needs values in expect' });
      return problems;
    }
    case 'push':
      return [];
  }
}

/**
 * Each kind's schema compiled once, on first use: a targets file of 20,000 entries took about 1.8 ms
 * per target in the interpreted `Value.Check`, most of a 36 s load (issue 20).
 */
const checkers = new Map<MonitorKind, Validator>();
function checkerOf(kind: MonitorKind): Validator {
  let checker = checkers.get(kind);
  if (!checker) checkers.set(kind, (checker = Compile(KIND_SCHEMAS[kind])));
  return checker;
}

/**
 * Fills defaults and validates a target definition from any source, strictly (a value of the wrong
 * type is a problem, never converted). Returns the spec, or every problem found, each with its path,
 * so callers can name the field (API) or the line (YAML). A spec without `kind` is http.
 */
export function parseTargetSpec(input: unknown): { spec: TargetSpec } | { problems: TargetProblem[] } {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return { problems: [{ path: '', message: 'must be an object' }] };
  const given = structuredClone(input) as Record<string, unknown>;
  const kind = given.kind ?? 'http';
  if (typeof kind !== 'string' || !Object.hasOwn(KIND_SCHEMAS, kind)) {
    return { problems: [{ path: '/kind', message: `must be one of ${MONITOR_KINDS.join(', ')}` }] };
  }
  // The default timeout (10 s) shrinks to fit a shorter interval rather than make it invalid.
  if (given.timeoutMs === undefined && typeof given.intervalSeconds === 'number') {
    given.timeoutMs = Math.max(100, Math.min(10_000, given.intervalSeconds * 1000));
  }
  const schema = KIND_SCHEMAS[kind as MonitorKind];
  const value = Value.Default(schema, given);
  if (!checkerOf(kind as MonitorKind).Check(value)) {
    const assertions = assertionProblems((value as { assertions?: unknown }).assertions);
    const others = schemaProblems(schema, value).filter((p) => !p.path.startsWith('/assertions/'));
    return { problems: [...others, ...assertions] };
  }
  const spec = { ...(value as object), kind: kind as MonitorKind } as TargetSpec;
  const problems = kindProblems(spec);
  if (spec.timeoutMs > spec.intervalSeconds * 1000) {
    problems.push({ path: '/timeoutMs', message: 'must not exceed the interval' });
  }
  return problems.length > 0 ? { problems } : { spec };
}

/** Ids are chosen by users in the YAML file and appear in URLs, so keep them URL-safe. */
export const TARGET_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** What a target checks, in a few words for messages and lists. */
export function addressOf(spec: TargetSpec): string {
  switch (spec.kind) {
    case undefined:
    case 'http':
      return spec.url;
    case 'tcp':
      return `${spec.tls ? 'tls' : 'tcp'}://${spec.host}:${spec.port}`;
    case 'dns':
      return `${spec.recordType} ${spec.query}${spec.resolver ? ` @${spec.resolver}` : ''}`;
    case 'push':
      return 'push heartbeat';
    case 'icmp':
      return `ping ${spec.host}`;
  }
}

/** A stored spec as read back: one stored before kinds existed is http. */
export function storedSpec(spec: TargetSpec): TargetSpec {
  return spec.kind === undefined ? { ...spec, kind: 'http' } : spec;
}

/** An http target as stored. */
export type HttpTarget = HttpSpec & TargetMeta;
