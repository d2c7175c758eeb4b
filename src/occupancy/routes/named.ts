import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type, { type TSchema } from 'typebox';
import { BeaconError, type ErrorCode } from '../../errors/catalog.ts';
import { requireContentType } from '../../http/auth.ts';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses } from '../../http/schemas.ts';
import { page } from '../../wire/cursor.ts';
import type { Named, OccupancyReader, OccupancyStore, OccupancyWriter } from '../store/repositories.ts';
import { afterId, IdParams, ListQuery, pageOf, RenameBody, security, tags } from './schemas.ts';

/** A kind of named thing (space, doorway or sensor), as its get, list, rename and delete routes use it. */
export interface NamedKind<T extends { id: string }> {
  readonly kind: Named;
  /** The kind's plural, which is also its path under /v1. */
  readonly plural: string;
  readonly item: TSchema;
  readonly json: (row: T) => object;
  readonly notFound: ErrorCode;
  readonly getSummary: string;
  /** What `GET …/:id` adds to the item, if anything. */
  readonly detail?: (tenant: string, row: T) => Promise<object>;
  readonly list: (query: {
    tenant: string;
    limit: number;
    after: string | undefined;
    filters: Record<string, string | undefined>;
  }) => Promise<T[]>;
  /** Optional string filters of the listing, by query parameter (doorways: `space`). */
  readonly filters?: Record<string, string>;
  readonly get: (tx: OccupancyReader, tenant: string, id: string) => Promise<T | undefined>;
  /** What still refers to the thing, which refuses its delete (409 IN_USE); undefined when nothing does. */
  readonly inUse: (tx: OccupancyReader, tenant: string, id: string) => Promise<string | undefined>;
  readonly deleteDescription: string;
  /** False when the kind registers a PATCH of its own (spaces change more than their name). */
  readonly rename?: false;
  /** Runs in the delete's transaction once the row is gone (spaces keep an audit entry). */
  readonly deleted?: (tx: OccupancyWriter, tenant: string, row: T, actor: string) => Promise<void>;
}

/**
 * Get, list, rename and delete: the same four routes for spaces, doorways and sensors, registered
 * after the kind's create route.
 */
export function registerNamedRoutes<T extends { id: string }>(
  base: FastifyInstance,
  ctx: RouteContext<OccupancyStore>,
  spec: NamedKind<T>,
): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { store, scope } = ctx;
  const { kind } = spec;
  const path = `/v1/${spec.plural}`;
  app.get(
    `${path}/:id`,
    {
      onRequest: scope('read'),
      schema: {
        tags,
        security,
        summary: spec.getSummary,
        params: IdParams,
        response: { 200: spec.item, ...errorResponses(401, 403, 404, 429) },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const { id } = request.params;
      const row = await spec.get(store.occupancy, tenant, id);
      if (!row) throw new BeaconError(spec.notFound, `no ${kind} ${id}`);
      return { ...spec.json(row), ...(await spec.detail?.(tenant, row)) };
    },
  );
  app.get(
    path,
    {
      onRequest: scope('read'),
      schema: {
        tags,
        security,
        summary: `List ${spec.plural}`,
        description: 'In id order, paged by cursor.',
        querystring: Type.Object({
          ...ListQuery.properties,
          ...Object.fromEntries(
            Object.entries(spec.filters ?? {}).map(([k, description]) => [
              k,
              Type.Optional(Type.String({ description })),
            ]),
          ),
        }),
        response: { 200: pageOf(spec.item), ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (request) => {
      const { limit, after, ...filters } = request.query as {
        limit: number;
        after?: string;
        [filter: string]: unknown;
      };
      const rows = await spec.list({
        tenant: request.principal!.tenant,
        limit: limit + 1,
        after: afterId(after),
        filters: filters as Record<string, string | undefined>,
      });
      return page(rows, limit, (r) => [r.id], spec.json);
    },
  );
  if (spec.rename !== false) registerRename(base, ctx, spec);
  app.delete(
    `${path}/:id`,
    {
      onRequest: scope('admin'),
      schema: {
        tags,
        security,
        summary: `Delete a ${kind}`,
        description: spec.deleteDescription,
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 409, 429) },
      },
    },
    async (request, reply) => {
      const { tenant, tokenId } = request.principal!;
      const { id } = request.params;
      await store.transaction(async (tx) => {
        const row = await spec.get(tx.occupancy, tenant, id);
        if (!row) throw new BeaconError(spec.notFound, `no ${kind} ${id}`);
        const reason = await spec.inUse(tx.occupancy, tenant, id);
        if (reason !== undefined) throw new BeaconError('IN_USE', `${kind} ${id} still has ${reason}`);
        await tx.occupancy.delete(kind, tenant, id);
        await spec.deleted?.(tx.occupancy, tenant, row, tokenId);
      });
      return reply.code(204).send(null);
    },
  );
}

/** `PATCH …/:id`: renames the thing. */
function registerRename<T extends { id: string }>(
  base: FastifyInstance,
  ctx: RouteContext<OccupancyStore>,
  spec: NamedKind<T>,
): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { store, scope } = ctx;
  const { kind } = spec;
  app.patch(
    `/v1/${spec.plural}/:id`,
    {
      onRequest: [scope('admin'), requireContentType('application/json')],
      schema: {
        tags,
        security,
        summary: `Rename a ${kind}`,
        params: IdParams,
        body: RenameBody,
        response: { 200: spec.item, ...errorResponses(400, 401, 403, 404, 415, 429) },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const { id } = request.params;
      const row = await store.transaction(async (tx) => {
        if (!(await tx.occupancy.rename(kind, tenant, id, request.body.name))) {
          throw new BeaconError(spec.notFound, `no ${kind} ${id}`);
        }
        return (await spec.get(tx.occupancy, tenant, id))!;
      });
      return spec.json(row);
    },
  );
}
