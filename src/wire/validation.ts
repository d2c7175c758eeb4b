import type { TSchema } from 'typebox';
import Value from 'typebox/value';

/**
 * The first reason `value` fails `schema`, as "field message" (`targets.0 must be string`), naming
 * a field the schema does not know as such. For definitions validated strictly (no conversion) from
 * the API and the targets file alike; `what` names the whole value when the problem is at its root.
 */
export function firstProblem(schema: TSchema, value: unknown, what: string): string {
  const e = [...Value.Errors(schema, value)][0];
  if (!e) return `${what} is not valid`;
  const path = e.instancePath.slice(1).replace(/\//g, '.') || what;
  return e.keyword === 'additionalProperties' || e.keyword === 'boolean'
    ? `${path} is not a known field`
    : `${path} ${e.message}`;
}
