import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { v7 as uuidv7 } from 'uuid';
import { BeaconError } from '../../errors/catalog.ts';
import { requireContentType } from '../../http/auth.ts';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses, IsoTime } from '../../http/schemas.ts';
import { decodeCursor, page } from '../../wire/cursor.ts';
import { epochMs, isoTime } from '../../wire/time.ts';
import { DEFINITION_ID } from '../maintenance.ts';
import type { StatusCache } from '../status/cache.ts';
import {
  checkGroups,
  specWithDefaults,
  StatusPageSpecSchema,
  StatusUpdateSpecSchema,
  type StatusPage,
  type StatusPageSpec,
  type StatusUpdate,
} from '../status-page.ts';
import type { MonitorStore, StatusPageWrite } from '../store/repositories.ts';

/** A status page on the wire. */
export const StatusPageView = Type.Object(
  {
    ...StatusPageSpecSchema.properties,
    id: Type.String(),
    url: Type.String({ description: 'Where the public page is, on this server.' }),
    createdAt: IsoTime('When the page was created.'),
    updatedAt: IsoTime('When the page last changed.'),
  },
  { $id: 'StatusPage' },
);

/** An incident update on the wire. */
export const StatusUpdateView = Type.Object(
  {
    id: Type.String(),
    page: Type.String({ description: 'The status page’s id.' }),
    title: Type.String(),
    body: Type.String({ description: 'Markdown, as written.' }),
    status: StatusUpdateSpecSchema.properties.status,
    at: IsoTime('When it happened.'),
    createdAt: IsoTime('When it was published.'),
    updatedAt: IsoTime('When it was last edited.'),
  },
  { $id: 'StatusUpdate' },
);

const pageView = (p: StatusPage) => {
  const { tenant: _t, ...rest } = p;
  return {
    ...rest,
    url: `/status/${p.slug}`,
    createdAt: isoTime(p.createdAt),
    updatedAt: isoTime(p.updatedAt),
  };
};

const updateView = (u: StatusUpdate) => ({
  id: u.id,
  page: u.page,
  title: u.title,
  body: u.body,
  status: u.status,
  at: isoTime(u.at),
  createdAt: isoTime(u.createdAt),
  updatedAt: isoTime(u.updatedAt),
});

const Id = Type.String({ minLength: 1, maxLength: 128, pattern: DEFINITION_ID.source });
const PageParams = Type.Object({ id: Type.String({ description: 'Status page id.' }) });
const UpdateParams = Type.Object({
  id: Type.String({ description: 'Status page id.' }),
  update: Type.String({ description: 'Update id.' }),
});
const CreateBody = Type.Object(
  { id: Type.Optional(Id), ...StatusPageSpecSchema.properties },
  { additionalProperties: false },
);
const Listing = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
  after: Type.Optional(Type.String({ description: 'The `next` cursor of the previous page.' })),
});

/** What a taken slug or domain, or a missing page, answers. */
function refuse(result: StatusPageWrite, spec: StatusPageSpec, id: string): void {
  if (result === 'slug-taken') throw new BeaconError('STATUS_PAGE_TAKEN', `the slug ${spec.slug} is taken`);
  if (result === 'domain-taken')
    throw new BeaconError('STATUS_PAGE_TAKEN', `the domain ${spec.domain} is another page’s`);
  if (result === 'id-taken') throw new BeaconError('CONFLICT', `status page ${id} exists`);
  if (result === 'not-found') throw new BeaconError('NOT_FOUND', `no status page ${id}`);
}

/**
 * `/v1/status-pages` and their incident updates: a tenant's admin tokens write them, read tokens
 * read them; another tenant's pages are 404. Every write forgets the public page in `cache`.
 */
export function registerStatusPageRoutes(
  base: FastifyInstance,
  ctx: RouteContext<MonitorStore>,
  cache: StatusCache,
): void {
  base.addSchema(StatusPageView);
  base.addSchema(StatusUpdateView);
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const repo = ctx.store.statusPages;
  const tags = ['monitor'];
  const security = [{ bearer: [] }];
  const { maxTargets } = ctx.config.monitor.statusPages;

  const require = async (tenant: string, id: string): Promise<StatusPage> => {
    const found = await repo.get(tenant, id);
    if (!found) throw new BeaconError('NOT_FOUND', `no status page ${id}`);
    return found;
  };

  /** Checks a spec's groups, counting what its tags select now against the cap. */
  const checked = async (tenant: string, spec: StatusPageSpec): Promise<StatusPageSpec> => {
    checkGroups(spec.groups, maxTargets);
    let total = new Set(spec.groups.flatMap((g) => g.targets ?? [])).size;
    for (const tag of new Set(spec.groups.flatMap((g) => g.tag ?? []))) {
      total += await ctx.store.monitor.countTargets({ tenant, tag });
      if (total > maxTargets)
        throw new BeaconError(
          'STATUS_PAGE_TOO_MANY_TARGETS',
          `a status page shows at most ${maxTargets} targets; these groups select ${total} or more (tag ${tag})`,
        );
    }
    return spec;
  };

  app.post(
    '/v1/status-pages',
    {
      onRequest: [ctx.scope('admin'), requireContentType('application/json')],
      schema: {
        tags,
        security,
        summary: 'Create a status page',
        description: `Its groups show at most ${maxTargets} targets (\`monitor.statusPages.maxTargets\`). The slug and domain are unique across the instance.`,
        body: CreateBody,
        response: { 201: Type.Ref('StatusPage'), ...errorResponses(400, 401, 403, 409, 415, 429) },
      },
    },
    async (request, reply) => {
      const tenant = request.principal!.tenant;
      const { id = uuidv7(), ...input } = request.body;
      const spec = await checked(tenant, specWithDefaults(input));
      const now = Date.now();
      const created: StatusPage = { ...spec, tenant, id, createdAt: now, updatedAt: now };
      refuse(await repo.create(created), spec, id);
      cache.forget(spec.slug);
      return reply.code(201).send(pageView(created));
    },
  );

  app.get(
    '/v1/status-pages',
    {
      onRequest: ctx.scope('read'),
      schema: {
        tags,
        security,
        summary: 'List status pages',
        querystring: Listing,
        response: {
          200: Type.Object({
            items: Type.Array(Type.Ref('StatusPage')),
            next: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errorResponses(400, 401, 403, 429),
        },
      },
    },
    async (request) => {
      const { limit, after } = request.query;
      const cursor = after === undefined ? undefined : decodeCursor(after, ['string'] as const)[0];
      const rows = await repo.list(request.principal!.tenant, limit + 1, cursor);
      return page(rows, limit, (p) => [p.id], pageView);
    },
  );

  app.get(
    '/v1/status-pages/:id',
    {
      onRequest: ctx.scope('read'),
      schema: {
        tags,
        security,
        summary: 'One status page',
        params: PageParams,
        response: { 200: Type.Ref('StatusPage'), ...errorResponses(401, 403, 404, 429) },
      },
    },
    async (request) => pageView(await require(request.principal!.tenant, request.params.id)),
  );

  app.put(
    '/v1/status-pages/:id',
    {
      onRequest: [ctx.scope('admin'), requireContentType('application/json')],
      schema: {
        tags,
        security,
        summary: 'Replace a status page',
        description: 'Every field is replaced; one left out takes its default (no domain, say).',
        params: PageParams,
        body: StatusPageSpecSchema,
        response: { 200: Type.Ref('StatusPage'), ...errorResponses(400, 401, 403, 404, 409, 415, 429) },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const current = await require(tenant, request.params.id);
      const spec = await checked(tenant, specWithDefaults(request.body));
      const now = Date.now();
      refuse(await repo.update(tenant, current.id, spec, now), spec, current.id);
      cache.forget(current.slug);
      cache.forget(spec.slug);
      return pageView({ ...spec, tenant, id: current.id, createdAt: current.createdAt, updatedAt: now });
    },
  );

  app.delete(
    '/v1/status-pages/:id',
    {
      onRequest: ctx.scope('admin'),
      schema: {
        tags,
        security,
        summary: 'Delete a status page and its updates',
        params: PageParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const tenant = request.principal!.tenant;
      const current = await require(tenant, request.params.id);
      await repo.delete(tenant, current.id);
      cache.forget(current.slug);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/status-pages/:id/updates',
    {
      onRequest: [ctx.scope('admin'), requireContentType('application/json')],
      schema: {
        tags,
        security,
        summary: 'Publish an incident update',
        description:
          'Shown on the public page and in its Atom feed at once (after the cache, at most `monitor.statusPages.cacheSeconds`, elsewhere).',
        params: PageParams,
        body: Type.Object(
          { id: Type.Optional(Id), ...StatusUpdateSpecSchema.properties },
          { additionalProperties: false },
        ),
        response: { 201: Type.Ref('StatusUpdate'), ...errorResponses(400, 401, 403, 404, 409, 415, 429) },
      },
    },
    async (request, reply) => {
      const tenant = request.principal!.tenant;
      const current = await require(tenant, request.params.id);
      const { id = uuidv7(), title, body = '', status, at } = request.body;
      const now = Date.now();
      const update: StatusUpdate = {
        tenant,
        page: current.id,
        id,
        title,
        body,
        status,
        at: epochMs(at) ?? now,
        createdAt: now,
        updatedAt: now,
      };
      if (!(await repo.addUpdate(update))) throw new BeaconError('CONFLICT', `update ${id} exists`);
      cache.forget(current.slug);
      return reply.code(201).send(updateView(update));
    },
  );

  app.get(
    '/v1/status-pages/:id/updates',
    {
      onRequest: ctx.scope('read'),
      schema: {
        tags,
        security,
        summary: "A status page's incident updates, newest first",
        params: PageParams,
        querystring: Listing,
        response: {
          200: Type.Object({
            items: Type.Array(Type.Ref('StatusUpdate')),
            next: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errorResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const current = await require(tenant, request.params.id);
      const { limit, after } = request.query;
      const before = after === undefined ? undefined : decodeCursor(after, ['number', 'string'] as const);
      const rows = await repo.listUpdates(
        tenant,
        current.id,
        limit + 1,
        before && { at: before[0], id: before[1] },
      );
      return page(rows, limit, (u) => [u.at, u.id], updateView);
    },
  );

  app.put(
    '/v1/status-pages/:id/updates/:update',
    {
      onRequest: [ctx.scope('admin'), requireContentType('application/json')],
      schema: {
        tags,
        security,
        summary: 'Edit an incident update',
        description: 'Title, body and status are replaced; `at` is kept unless given.',
        params: UpdateParams,
        body: StatusUpdateSpecSchema,
        response: { 200: Type.Ref('StatusUpdate'), ...errorResponses(400, 401, 403, 404, 415, 429) },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const current = await require(tenant, request.params.id);
      const held = await repo.getUpdate(tenant, current.id, request.params.update);
      if (!held) throw new BeaconError('NOT_FOUND', `no update ${request.params.update}`);
      const { title, body = '', status, at } = request.body;
      const fields = { title, body, status, at: epochMs(at) ?? held.at };
      const now = Date.now();
      if (!(await repo.editUpdate(tenant, current.id, held.id, fields, now)))
        throw new BeaconError('NOT_FOUND', `no update ${held.id}`);
      cache.forget(current.slug);
      return updateView({ ...held, ...fields, updatedAt: now });
    },
  );

  app.delete(
    '/v1/status-pages/:id/updates/:update',
    {
      onRequest: ctx.scope('admin'),
      schema: {
        tags,
        security,
        summary: 'Delete an incident update',
        params: UpdateParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const tenant = request.principal!.tenant;
      const current = await require(tenant, request.params.id);
      if (!(await repo.deleteUpdate(tenant, current.id, request.params.update)))
        throw new BeaconError('NOT_FOUND', `no update ${request.params.update}`);
      cache.forget(current.slug);
      return reply.code(204).send(null);
    },
  );
}
