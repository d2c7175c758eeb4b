import type { IncomingHttpHeaders } from 'node:http';
import { RE2JS, RE2JSException } from 're2js';
import Type from 'typebox';

/** Comparisons an assertion may make. */
export const ASSERTION_OPS = [
  'equals',
  'notEquals',
  'contains',
  'notContains',
  'matches',
  'lessThan',
  'lessOrEqual',
  'greaterThan',
  'greaterOrEqual',
  'exists',
  'absent',
] as const;
export type AssertionOp = (typeof ASSERTION_OPS)[number];

const Op = Type.Enum(ASSERTION_OPS, {
  description: 'The comparison; `exists` and `absent` take no value, `matches` an RE2 pattern.',
});
const Expected = Type.Optional(
  Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean(), Type.Null()], {
    description: 'What to compare with.',
  }),
);

/**
 * A condition on an HTTP answer beside its status and pattern: a value in the JSON body, a header,
 * or the response time. A check whose assertion fails is down (class `assertion`).
 */
export const AssertionSchema = Type.Union([
  Type.Object(
    {
      type: Type.Literal('json'),
      path: Type.String({
        minLength: 1,
        maxLength: 500,
        description:
          'JSONPath-style selector: `$`, then `.name`, `["name"]` or `[index]` (negative from the end).',
      }),
      op: Op,
      value: Expected,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('header'),
      name: Type.String({ pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", maxLength: 200 }),
      op: Op,
      value: Expected,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('responseTime'),
      op: Type.Enum(['lessThan', 'lessOrEqual']),
      value: Type.Number({ minimum: 0, description: 'Milliseconds, the whole check.' }),
    },
    { additionalProperties: false },
  ),
]);
export type Assertion = Type.Static<typeof AssertionSchema>;

/** What one assertion found: whether it held, and the value it looked at (shortened). */
export interface AssertionResult {
  readonly ok: boolean;
  readonly actual: string | null;
}

type Step = string | number;

/** Parses a selector into its steps; throws with a message on bad syntax. */
export function parsePath(path: string): Step[] {
  if (!path.startsWith('$')) throw new Error('must start with $');
  const steps: Step[] = [];
  const re =
    /\.([A-Za-z_$][A-Za-z0-9_$-]*)|\[\s*(-?\d+)\s*\]|\[\s*"((?:[^"\\]|\\.)*)"\s*\]|\[\s*'((?:[^'\\]|\\.)*)'\s*\]/y;
  re.lastIndex = 1;
  while (re.lastIndex < path.length) {
    const at = re.lastIndex;
    const m = re.exec(path);
    if (!m) throw new Error(`cannot read the selector at "${path.slice(at)}"`);
    if (m[1] !== undefined) steps.push(m[1]);
    else if (m[2] !== undefined) steps.push(Number(m[2]));
    else steps.push((m[3] ?? m[4]!).replace(/\\(.)/g, '$1'));
  }
  return steps;
}

/** The value at `steps`, or undefined when there is none. */
function select(root: unknown, steps: readonly Step[]): unknown {
  let node = root;
  for (const step of steps) {
    if (typeof step === 'number') {
      if (!Array.isArray(node)) return undefined;
      node = node[step < 0 ? node.length + step : step];
    } else {
      if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
      node = Object.hasOwn(node, step) ? (node as Record<string, unknown>)[step] : undefined;
    }
  }
  return node;
}

/** Problems with an assertion a schema cannot see (selector syntax, RE2 syntax, a missing value). */
export function assertionProblem(a: Assertion): string | undefined {
  if (a.type === 'responseTime') return undefined;
  if (a.type === 'json') {
    try {
      parsePath(a.path);
    } catch (err) {
      return `path ${(err as Error).message}`;
    }
  }
  if (a.op !== 'exists' && a.op !== 'absent' && a.value === undefined) return `op ${a.op} needs a value`;
  if (a.op === 'matches') {
    if (typeof a.value !== 'string') return 'matches needs a string pattern';
    try {
      RE2JS.compile(a.value);
    } catch (err) {
      if (!(err instanceof RE2JSException)) throw err;
      return `value is not a valid RE2 pattern: ${err.message}`;
    }
  }
  return undefined;
}

const shown = (v: unknown): string | null =>
  v === undefined ? null : (typeof v === 'string' ? v : JSON.stringify(v)).slice(0, 200);

/** Compares `actual` with `expected` by `op`. */
function holds(op: AssertionOp, actual: unknown, expected: unknown): boolean {
  switch (op) {
    case 'exists':
      return actual !== undefined;
    case 'absent':
      return actual === undefined;
    case 'equals':
      return actual === expected;
    case 'notEquals':
      return actual !== expected;
    case 'contains':
    case 'notContains': {
      const found = Array.isArray(actual)
        ? actual.includes(expected)
        : typeof actual === 'string' && actual.includes(String(expected));
      return op === 'contains' ? found : !found;
    }
    case 'matches':
      return (
        actual !== undefined &&
        RE2JS.compile(String(expected))
          .matcher(shown(actual) ?? '')
          .find()
      );
    default: {
      const a = typeof actual === 'number' ? actual : typeof actual === 'string' ? Number(actual) : NaN;
      const e = Number(expected);
      if (Number.isNaN(a) || Number.isNaN(e)) return false;
      if (op === 'lessThan') return a < e;
      if (op === 'lessOrEqual') return a <= e;
      if (op === 'greaterThan') return a > e;
      return a >= e;
    }
  }
}

/** What an HTTP answer offers assertions. */
export interface Answer {
  readonly body: Buffer | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly durationMs: number;
}

/** Checks each assertion against the answer; the body is parsed as JSON once, when one needs it. */
export function evaluateAssertions(assertions: readonly Assertion[], answer: Answer): AssertionResult[] {
  let json: { value: unknown } | null | undefined;
  const parsed = () => {
    if (json === undefined) {
      try {
        json = { value: JSON.parse(answer.body?.toString('utf8') ?? '') as unknown };
      } catch {
        json = null;
      }
    }
    return json;
  };
  return assertions.map((a) => {
    if (a.type === 'responseTime') {
      return { ok: holds(a.op, answer.durationMs, a.value), actual: String(Math.round(answer.durationMs)) };
    }
    if (a.type === 'header') {
      const raw = answer.headers[a.name.toLowerCase()];
      const actual = Array.isArray(raw) ? raw.join(', ') : raw;
      return { ok: holds(a.op, actual, a.value), actual: shown(actual) };
    }
    const body = parsed();
    if (body === null) return { ok: false, actual: 'the body is not JSON' };
    const actual = select(body.value, parsePath(a.path));
    return { ok: holds(a.op, actual, a.value), actual: shown(actual) };
  });
}

/** One line saying which assertion failed and what it saw. */
export function describeFailure(a: Assertion, r: AssertionResult): string {
  const what = a.type === 'json' ? a.path : a.type === 'header' ? `header ${a.name}` : 'response time';
  const bare = a.type !== 'responseTime' && (a.op === 'exists' || a.op === 'absent');
  const expected = bare ? '' : ` ${JSON.stringify(a.value)}`;
  return `${what} ${a.op}${expected} failed (was ${r.actual ?? 'absent'})`;
}
