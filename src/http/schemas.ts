import Type from 'typebox';

/** Shapes shared by every route, referenced from the OpenAPI document. */
export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable code from the error catalog (docs/errors.md).' }),
      message: Type.String(),
    }),
  },
  { $id: 'Error', description: 'Every error Beacon returns has this shape.' },
);

export const IsoTime = (description: string) => Type.String({ format: 'date-time', description });

/** Standard error responses to list on a route, keyed by status. */
export function errorResponses(...statuses: number[]): Record<number, typeof ErrorBody> {
  return Object.fromEntries(statuses.map((s) => [s, ErrorBody]));
}
