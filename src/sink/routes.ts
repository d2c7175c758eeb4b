import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { BeaconError } from '../errors/catalog.ts';
import type { RouteContext } from '../http/context.ts';
import { errorResponses, IsoTime } from '../http/schemas.ts';
import { STREAMS, type Stream } from '../log/record.ts';
import type { DeadLetter } from '../store/store.ts';
import { decodeCursor, encodeCursor, page } from '../wire/cursor.ts';
import { isoTime } from '../wire/time.ts';

const DeadLetterItem = Type.Object(
  {
    id: Type.String({ description: 'Names this dead letter (for DELETE).' }),
    group: Type.String({ description: 'The sink (consumer group) that refused the record.' }),
    stream: Type.String(),
    partition: Type.Integer(),
    offset: Type.Integer({ description: 'Where the record sits in its partition of the log.' }),
    recordId: Type.String({ description: 'The record’s id, as its 202 answered.' }),
    key: Type.String({ description: 'The record’s idempotency key.' }),
    error: Type.String({ description: 'Why the projection refused it.' }),
    record: Type.String({
      description: 'The whole record in wire format v1 (docs/wire-format.md), as JSON text.',
    }),
    failedAt: IsoTime('When the sink set it aside.'),
  },
  { $id: 'DeadLetter' },
);

const idOf = (d: Pick<DeadLetter, 'group' | 'stream' | 'partition' | 'offset'>) =>
  encodeCursor([d.group, d.stream, d.partition, d.offset]);

function parseId(id: string): Pick<DeadLetter, 'group' | 'stream' | 'partition' | 'offset'> {
  const [group, stream, partition, offset] = decodeCursor(id, [
    'string',
    'string',
    'number',
    'number',
  ] as const);
  if (!STREAMS.includes(stream as Stream)) throw new BeaconError('NOT_FOUND', 'no such dead letter');
  return { group, stream: stream as Stream, partition, offset };
}

/**
 * `GET /v1/dead-letters` and `DELETE /v1/dead-letters/{id}`: the records a sink set aside because
 * its projection refused them, for the token's tenant, newest first. Admin scope: they hold whole
 * records.
 */
export function registerDeadLetterRoutes(base: FastifyInstance, ctx: RouteContext): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['operations'];
  const security = [{ bearer: [] }];

  app.get(
    '/v1/dead-letters',
    {
      onRequest: ctx.scope('admin'),
      schema: {
        tags,
        security,
        summary: 'Records a sink set aside',
        description:
          'A record that a projection cannot apply (its data makes the store refuse it) is kept here with the error, and its partition moves on without it; the other records of its batch are stored. Each is counted in `beacon_sink_dead_letters_total`.',
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
          after: Type.Optional(
            Type.String({ minLength: 1, description: 'The `next` cursor of the previous page.' }),
          ),
          stream: Type.Optional(Type.Union(STREAMS.map((s) => Type.Literal(s)))),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(DeadLetterItem),
            next: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errorResponses(400, 401, 403, 429, 503),
        },
      },
    },
    async (request) => {
      const { limit, after, stream } = request.query;
      const before =
        after === undefined
          ? undefined
          : (() => {
              const [failedAt, group, s, partition, offset] = decodeCursor(after, [
                'number',
                'string',
                'string',
                'number',
                'number',
              ] as const);
              return { failedAt, group, stream: s as Stream, partition, offset };
            })();
      const rows = await ctx.store.deadLetters({
        tenant: request.principal!.tenant,
        limit: limit + 1,
        stream,
        before,
      });
      return page(
        rows,
        limit,
        (d) => [d.failedAt, d.group, d.stream, d.partition, d.offset],
        (d) => ({
          id: idOf(d),
          group: d.group,
          stream: d.stream,
          partition: d.partition,
          offset: d.offset,
          recordId: d.id,
          key: d.key,
          error: d.error,
          record: d.record,
          failedAt: isoTime(d.failedAt),
        }),
      );
    },
  );

  app.delete(
    '/v1/dead-letters/:id',
    {
      onRequest: ctx.scope('admin'),
      schema: {
        tags,
        security,
        summary: 'Dismiss a dead letter',
        description: 'Forgets a dead letter once it has been dealt with (the record is still in the log).',
        params: Type.Object({ id: Type.String({ minLength: 1 }) }),
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      const letter = parseId(request.params.id);
      if (!(await ctx.store.dismissDeadLetter(request.principal!.tenant, letter))) {
        throw new BeaconError('NOT_FOUND', 'no such dead letter');
      }
      return reply.code(204).send(null);
    },
  );
}
