import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { BeaconError } from '../../errors/catalog.ts';
import { requireContentType } from '../../http/auth.ts';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses, IsoTime } from '../../http/schemas.ts';
import { epochMs, isoTime } from '../../wire/time.ts';
import { audit } from '../audit.ts';
import { moveSpace, undoMove } from '../moves.ts';
import type { OccupancyStore } from '../store/repositories.ts';
import { pushCounts } from './push.ts';
import { IdParams, MoveItem, moveJson, security, tags } from './schemas.ts';

/**
 * `/v1/spaces/:id/moves`: re-parent a space from a date, or take a move back. Effective-dated like
 * placements: counts before the date stay exactly as they were; from it on the space (with the people
 * inside it) counts in its new ancestors.
 */
export function registerMoveRoutes(base: FastifyInstance, ctx: RouteContext<OccupancyStore>): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { store, scope } = ctx;
  app.post(
    '/v1/spaces/:id/moves',
    {
      onRequest: [scope('admin'), requireContentType('application/json')],
      schema: {
        tags,
        security,
        summary: 'Move a space under another parent from a date',
        description:
          'From `at` on the space sits inside `parent` (null: at the top), until its next move if it has one. The people inside it at `at` leave its old ancestors and enter its new ones; every crossing of its boundary since `at` is counted again in the new tree, in this request. Refused (409 SPACE_CYCLE) when the tree would hold a cycle at any time. Recorded in the audit trail.',
        params: IdParams,
        body: Type.Object(
          {
            parent: Type.Union([Type.String(), Type.Null()], {
              description: 'The new parent; null for the top.',
            }),
            at: IsoTime('From when.'),
          },
          { additionalProperties: false },
        ),
        response: { 201: MoveItem, ...errorResponses(400, 401, 403, 404, 409, 415, 429) },
      },
    },
    async (request, reply) => {
      const { tenant, tokenId } = request.principal!;
      const move = {
        space: request.params.id,
        parent: request.body.parent,
        at: epochMs(request.body.at),
        createdAt: Date.now(),
      };
      const touched = await store.transaction(async (tx) => {
        const spaces = await moveSpace(tx.occupancy, tenant, move);
        await audit(tx.occupancy, tenant, tokenId, 'space.moved', move.space, {
          parent: move.parent,
          at: isoTime(move.at),
        });
        return spaces;
      });
      await pushCounts(ctx, tenant, touched);
      return reply.code(201).send(moveJson(move));
    },
  );
  app.delete(
    '/v1/spaces/:id/moves/:at',
    {
      onRequest: scope('admin'),
      schema: {
        tags,
        security,
        summary: 'Take back a move of a space',
        description:
          'The parent before it holds on until the space’s next move, and everything since is counted as if the move had never been made. Recorded in the audit trail.',
        params: Type.Object({ ...IdParams.properties, at: IsoTime('The time of the move (URL-encoded).') }),
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404, 409, 429) },
      },
    },
    async (request, reply) => {
      const { tenant, tokenId } = request.principal!;
      const { id } = request.params;
      const at = epochMs(request.params.at);
      const touched = await store.transaction(async (tx) => {
        if (!(await tx.occupancy.space(tenant, id)))
          throw new BeaconError('SPACE_NOT_FOUND', `no space ${id}`);
        const { move, touched: spaces } = await undoMove(tx.occupancy, tenant, id, at);
        await audit(tx.occupancy, tenant, tokenId, 'space.move-undone', id, {
          parent: move.parent,
          at: isoTime(move.at),
        });
        return spaces;
      });
      await pushCounts(ctx, tenant, touched);
      return reply.code(204).send(null);
    },
  );
}
