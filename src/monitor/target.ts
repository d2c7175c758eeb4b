import { RE2JS, RE2JSException } from 're2js';
import Type from 'typebox';
import Value from 'typebox/value';

/** Where a target was defined: the API, or the watched YAML file (monitoring as code). */
export type TargetSource = 'api' | 'file';

/** Largest body a check reads; beyond a target's limit the check fails with `body-too-large`. */
export const MAX_BODY_LIMIT = 16 * 1024 * 1024;

/**
 * What a user declares about a target, in the API and in the YAML file alike. The same schema
 * validates both and documents the API.
 */
export const TargetSpecSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Display name.' })),
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'http:// or https:// URL to check.' }),
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
    ignoreTlsErrors: Type.Boolean({
      default: false,
      description: 'Accept invalid certificates (the expiry is still recorded).',
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
    tags: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
      default: [],
      maxItems: 32,
      description: 'Free-form labels.',
    }),
  },
  { additionalProperties: false },
);

export type TargetSpec = Type.Static<typeof TargetSpecSchema>;

/** A target as stored: its spec plus identity and bookkeeping. */
export interface Target extends TargetSpec {
  readonly id: string;
  readonly tenant: string;
  readonly source: TargetSource;
  readonly createdAt: number;
  readonly updatedAt: number;
}

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

/**
 * Fills defaults and validates a target definition from any source. Returns the spec, or every
 * problem found, each with its path, so callers can name the field (API) or the line (YAML).
 */
export function parseTargetSpec(input: unknown): { spec: TargetSpec } | { problems: TargetProblem[] } {
  const given = structuredClone(input ?? {}) as Record<string, unknown>;
  // The default timeout (10 s) shrinks to fit a shorter interval rather than make it invalid.
  if (
    typeof given === 'object' &&
    given.timeoutMs === undefined &&
    typeof given.intervalSeconds === 'number'
  ) {
    given.timeoutMs = Math.max(100, Math.min(10_000, given.intervalSeconds * 1000));
  }
  const value = Value.Default(TargetSpecSchema, given);
  if (!Value.Check(TargetSpecSchema, value)) {
    const problems = [...Value.Errors(TargetSpecSchema, value)].map((e) => ({
      path: e.instancePath,
      message:
        e.keyword === 'boolean' || e.keyword === 'additionalProperties' ? 'is not a known field' : e.message,
    }));
    return { problems };
  }
  const spec = value;
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
  if (spec.timeoutMs > spec.intervalSeconds * 1000) {
    problems.push({ path: '/timeoutMs', message: 'must not exceed the interval' });
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
  return problems.length > 0 ? { problems } : { spec };
}

/** Ids are chosen by users in the YAML file and appear in URLs, so keep them URL-safe. */
export const TARGET_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
