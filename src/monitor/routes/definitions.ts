import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type, { type TSchema } from 'typebox';
import { v7 as uuidv7 } from 'uuid';
import { BeaconError } from '../../errors/catalog.ts';
import { requireContentType } from '../../http/auth.ts';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses } from '../../http/schemas.ts';
import { decodeCursor, page } from '../../wire/cursor.ts';
import { DEFINITION_ID } from '../maintenance.ts';
import type { DefinitionMeta, DefinitionRepository, MonitorStore } from '../store/repositories.ts';

/** How one kind of definition is served: its path, words, schema, parsing and view. */
export interface DefinitionRoutes<S, D extends S & DefinitionMeta, V> {
  /** `/v1/alert-rules` */
  readonly path: string;
  /** `alert rule` */
  readonly noun: string;
  /** The response component's `$id`. */
  readonly ref: string;
  readonly repository: (store: MonitorStore) => DefinitionRepository<S, D>;
  /** Validates a body (defaults filled, no conversion); throws the kind's *_INVALID error. */
  readonly parse: (input: unknown, tenant: string) => Promise<S>;
  readonly view: (definition: D, now: number) => V;
}

const Params = Type.Object({ id: Type.String() });
const Input = (noun: string) =>
  Type.Unknown({
    description: `The ${noun}'s fields; \`id\` is optional on create (chosen by the server when absent).`,
  });

/**
 * CRUD routes for definitions kept as specs (alert rules, maintenance windows): create, list (keyset
 * paged), read, replace fields, delete. Those from the targets file are read-only here
 * (DEFINED_IN_FILE). Everything is the token's tenant's: another tenant's ids are 404.
 */
export function registerDefinitionRoutes<S, D extends S & DefinitionMeta, V>(
  base: FastifyInstance,
  ctx: RouteContext<MonitorStore>,
  routes: DefinitionRoutes<S, D, V>,
): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const repo = routes.repository(ctx.store);
  const { noun, path } = routes;
  const tags = ['monitor'];
  const security = [{ bearer: [] }];
  const view = Type.Ref(routes.ref) as unknown as TSchema;

  const require = async (tenant: string, id: string): Promise<D> => {
    const found = await repo.get(tenant, id);
    if (!found) throw new BeaconError('NOT_FOUND', `no ${noun} ${id}`);
    return found;
  };
  const writable = (d: D) => {
    if (d.source === 'file')
      throw new BeaconError('DEFINED_IN_FILE', `the ${noun} ${d.id} is defined in the targets file`);
  };

  app.post(
    path,
    {
      onRequest: [ctx.scope('admin'), requireContentType('application/json')],
      schema: {
        tags,
        security,
        summary: `Create an ${noun}`,
        body: Input(noun),
        response: { 201: view, ...errorResponses(400, 401, 403, 409, 415, 429) },
      },
    },
    async (request, reply) => {
      const tenant = request.principal!.tenant;
      const body = request.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        throw new BeaconError('NOT_AN_OBJECT');
      const { id, ...rest } = body as Record<string, unknown>;
      if (id !== undefined && (typeof id !== 'string' || !DEFINITION_ID.test(id)))
        throw new BeaconError(
          'VALIDATION_FAILED',
          'id must be letters, digits, ".", "_" or "-" (at most 128)',
        );
      const spec = await routes.parse(rest, tenant);
      const now = Date.now();
      const definition = {
        ...spec,
        id: id ?? uuidv7(),
        tenant,
        source: 'api',
        createdAt: now,
        updatedAt: now,
      } as D;
      if (!(await repo.create(definition)))
        throw new BeaconError('CONFLICT', `${noun} ${definition.id} exists`);
      return reply.code(201).send(routes.view(definition, now));
    },
  );

  app.get(
    path,
    {
      onRequest: ctx.scope('read'),
      schema: {
        tags,
        security,
        summary: `List ${noun}s`,
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
          after: Type.Optional(Type.String({ description: 'The `next` cursor of the previous page.' })),
        }),
        response: {
          200: Type.Object({ items: Type.Array(view), next: Type.Union([Type.String(), Type.Null()]) }),
          ...errorResponses(400, 401, 403, 429),
        },
      },
    },
    async (request) => {
      const { limit, after } = request.query;
      const cursor = after === undefined ? undefined : decodeCursor(after, ['string'] as const)[0];
      const rows = await repo.list(request.principal!.tenant, limit + 1, cursor);
      const now = Date.now();
      return page(
        rows,
        limit,
        (d) => [d.id],
        (d) => routes.view(d, now),
      );
    },
  );

  app.get(
    `${path}/:id`,
    {
      onRequest: ctx.scope('read'),
      schema: {
        tags,
        security,
        summary: `One ${noun}`,
        params: Params,
        response: { 200: view, ...errorResponses(401, 403, 404, 429) },
      },
    },
    async (request) => routes.view(await require(request.principal!.tenant, request.params.id), Date.now()),
  );

  app.patch(
    `${path}/:id`,
    {
      onRequest: [ctx.scope('admin'), requireContentType('application/json')],
      schema: {
        tags,
        security,
        summary: `Change an ${noun}`,
        description: 'Fields given replace the stored ones; `null` clears an optional field.',
        params: Params,
        body: Input(noun),
        response: { 200: view, ...errorResponses(400, 401, 403, 404, 409, 415, 429) },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const current = await require(tenant, request.params.id);
      writable(current);
      const body = request.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        throw new BeaconError('NOT_AN_OBJECT');
      const {
        tenant: _t,
        id: _i,
        source: _s,
        createdAt,
        updatedAt: _u,
        ...spec
      } = current as D & Record<string, unknown>;
      const merged: Record<string, unknown> = { ...spec };
      for (const [k, v] of Object.entries(body)) {
        if (k === 'id') {
          if (v !== current.id) throw new BeaconError('VALIDATION_FAILED', 'id cannot change');
          continue;
        }
        if (v === null) delete merged[k];
        else merged[k] = v;
      }
      const next = await routes.parse(merged, tenant);
      const now = Date.now();
      if (!(await repo.update(tenant, current.id, next, now))) throw new BeaconError('NOT_FOUND');
      return routes.view(
        { ...next, id: current.id, tenant, source: 'api', createdAt, updatedAt: now } as D,
        now,
      );
    },
  );

  app.delete(
    `${path}/:id`,
    {
      onRequest: ctx.scope('admin'),
      schema: {
        tags,
        security,
        summary: `Delete an ${noun}`,
        params: Params,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 409, 429) },
      },
    },
    async (request, reply) => {
      const tenant = request.principal!.tenant;
      writable(await require(tenant, request.params.id));
      await repo.delete(tenant, request.params.id);
      return reply.code(204).send(null);
    },
  );
}
