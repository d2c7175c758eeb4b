import { AjvCompiler } from '@fastify/ajv-compiler';
import type { FastifyServerOptions } from 'fastify';

/** Options both validators share: defaults filled in, unknown keys left for the schema to refuse. */
const COMMON = {
  useDefaults: true,
  removeAdditional: false,
  // NaN and ±Infinity are never numbers here (`limit=1e400` would otherwise pass as Infinity).
  strictNumbers: true,
  allErrors: false,
} as const;

type Compile = ReturnType<ReturnType<typeof AjvCompiler>>;
type Validate = ReturnType<Compile>;

/**
 * Ajv coerces `1e400` to Infinity and then skips the range keywords for it; text parts must name
 * finite numbers, so any other coerced value is refused here.
 */
function finiteOnly(validate: Validate): Validate {
  const wrapped = ((data: unknown) => {
    const valid = validate(data);
    wrapped.errors = validate.errors;
    if (valid !== true || typeof data !== 'object' || data === null) return valid;
    for (const [key, value] of Object.entries(data)) {
      const values: unknown[] = Array.isArray(value) ? value : [value];
      if (values.some((v) => typeof v === 'number' && !Number.isFinite(v))) {
        wrapped.errors = [
          {
            instancePath: `/${key}`,
            schemaPath: '#',
            keyword: 'type',
            params: {},
            message: 'must be a finite number',
          },
        ];
        return false;
      }
    }
    return true;
  }) as Validate;
  // The rest of what Ajv's function carries (its schema, for Fastify's error messages).
  return Object.assign(wrapped, { schema: validate.schema, schemaEnv: validate.schemaEnv });
}

/**
 * Fastify's schema controller with two validators. Bodies are checked as they came: no type is
 * coerced, so a number where a string belongs is a 400 and never becomes a different value (an id
 * of 123456789012345678901234567890 is not stored as "1.2345678901234568e+29", `false` not as
 * "false"). Query strings, path parameters and headers are text on the wire, so they are coerced to
 * the declared types (and a single value to a one-item array), strictly: the value must be the
 * number's whole text.
 */
export function schemaController(): NonNullable<FastifyServerOptions['schemaController']> {
  const pool = AjvCompiler();
  return {
    compilersFactory: {
      buildValidator: (externalSchemas, options) => {
        const plugins = options?.plugins ?? [];
        const body = pool(externalSchemas, { customOptions: { ...COMMON, coerceTypes: false }, plugins });
        const text = pool(externalSchemas, { customOptions: { ...COMMON, coerceTypes: 'array' }, plugins });
        return (route) => {
          if (route.httpPart === 'body') return body(route);
          // A query parameter no route declares is a mistake (a misspelt `limt`), not something
          // to ignore: it is refused, as an unknown body property is.
          const schema = route.schema as { type?: unknown; additionalProperties?: unknown };
          const strict =
            route.httpPart === 'querystring' &&
            schema.type === 'object' &&
            schema.additionalProperties === undefined
              ? { ...route, schema: { ...(route.schema as object), additionalProperties: false } }
              : route;
          return finiteOnly(text(strict));
        };
      },
    },
  };
}
