import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { BeaconError } from '../errors/catalog.ts';
import { requireContentType } from '../http/auth.ts';
import type { RouteContext } from '../http/context.ts';
import { errorResponses, IsoTime } from '../http/schemas.ts';
import type { Store } from '../store/store.ts';
import { decodeCursor, page } from '../wire/cursor.ts';
import { isoTime, isoTimeOrNull } from '../wire/time.ts';
import { registerBadgeTokenRoutes } from './badge-token-routes.ts';
import { TENANT_ID, type Tenant } from './model.ts';
import type { TenantRepositories } from './store/repositories.ts';
import { createToken } from './tokens.ts';

const TenantItem = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    createdAt: IsoTime('When it was created.'),
    disabledAt: Type.Union([IsoTime('When an operator disabled it.'), Type.Null()]),
  },
  { $id: 'Tenant' },
);

const tenantJson = (t: Tenant) => ({
  id: t.id,
  name: t.name,
  createdAt: isoTime(t.createdAt),
  disabledAt: isoTimeOrNull(t.disabledAt ?? null),
});

/** What a new tenant's first token may do: everything in its tenant, nothing in others. */
const FIRST_TOKEN_SCOPES = ['admin', 'ingest', 'read'] as const;

/**
 * `/v1/tenants`: an operator (a token with the `operator` scope) creates tenants with their first
 * admin token, lists them, and disables or enables them. A tenant's own admin cannot: it sees only
 * its own tenant's objects everywhere else. A tenant's admin keeps its badge token (`/v1/badge-token`).
 */
export function registerTenantRoutes(
  base: FastifyInstance,
  ctx: RouteContext<Store & TenantRepositories>,
): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { store, scope } = ctx;
  const tags = ['tenants'];
  const security = [{ bearer: [] }];
  const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 63 }) });

  app.post(
    '/v1/tenants',
    {
      onRequest: [scope('operator'), requireContentType('application/json')],
      schema: {
        tags,
        security,
        summary: 'Create a tenant and its first admin token',
        description:
          'The token’s secret is in the answer once and never again (only its hash is kept). The tenant’s admin can then create its sites, targets, spaces and further tokens; it can see nothing of any other tenant.',
        body: Type.Object(
          {
            id: Type.String({
              pattern: TENANT_ID.source,
              description: 'Lower-case letters, digits and dashes, at most 63 characters.',
            }),
            name: Type.String({ minLength: 1, maxLength: 200 }),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ tenant: TenantItem, adminToken: Type.String({ description: 'Shown once.' }) }),
          ...errorResponses(400, 401, 403, 409, 415, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const { id, name } = request.body;
      const tenant: Tenant = { id, name, createdAt: Date.now(), disabledAt: null };
      if (!(await store.tenants.ensure(tenant))) {
        throw new BeaconError('ALREADY_EXISTS', `a tenant ${id} exists already`);
      }
      const { secret } = await createToken(store.tenants, {
        tenant: id,
        name: 'admin (created by an operator)',
        scopes: FIRST_TOKEN_SCOPES,
      });
      ctx.logger.info({ tenant: id, by: request.principal!.tokenId }, 'tenant created');
      return reply.code(201).send({ tenant: tenantJson(tenant), adminToken: secret });
    },
  );

  app.get(
    '/v1/tenants',
    {
      onRequest: scope('operator'),
      schema: {
        tags,
        security,
        summary: 'List tenants',
        description: 'By id, paged by an opaque cursor.',
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
          after: Type.Optional(
            Type.String({ minLength: 1, description: 'The `next` cursor of the previous page.' }),
          ),
        }),
        response: {
          200: Type.Object({ items: Type.Array(TenantItem), next: Type.Union([Type.String(), Type.Null()]) }),
          ...errorResponses(400, 401, 403, 429, 503),
        },
      },
    },
    async (request) => {
      const { limit, after } = request.query;
      const from = after === undefined ? undefined : decodeCursor(after, ['string'] as const)[0];
      const rows = await store.tenants.page(limit + 1, from);
      return page(rows, limit, (t) => [t.id], tenantJson);
    },
  );

  app.get(
    '/v1/tenants/:id',
    {
      onRequest: scope('operator'),
      schema: {
        tags,
        security,
        summary: 'One tenant',
        params: Params,
        response: { 200: TenantItem, ...errorResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) => {
      const tenant = await store.tenants.get(request.params.id);
      if (!tenant) throw new BeaconError('NOT_FOUND', `no tenant ${request.params.id}`);
      return tenantJson(tenant);
    },
  );

  for (const action of ['disable', 'enable'] as const) {
    app.post(
      `/v1/tenants/:id/${action}`,
      {
        onRequest: scope('operator'),
        schema: {
          tags,
          security,
          summary: action === 'disable' ? 'Disable a tenant' : 'Enable a disabled tenant',
          description:
            action === 'disable'
              ? 'Its tokens are refused with TENANT_DISABLED (within seconds on other API processes) and nothing of it is accepted; its data stays.'
              : 'Its tokens work again.',
          params: Params,
          response: { 200: TenantItem, ...errorResponses(400, 401, 403, 404, 409, 429, 503) },
        },
      },
      async (request) => {
        const { id } = request.params;
        if (action === 'disable' && id === request.principal!.tenant) {
          throw new BeaconError('CONFLICT', 'an operator cannot disable its own tenant');
        }
        if (!(await store.tenants.setDisabled(id, action === 'disable' ? Date.now() : null))) {
          throw new BeaconError('NOT_FOUND', `no tenant ${id}`);
        }
        ctx.authenticator.forget();
        ctx.logger.info({ tenant: id, by: request.principal!.tokenId }, `tenant ${action}d`);
        return tenantJson((await store.tenants.get(id))!);
      },
    );
  }

  registerBadgeTokenRoutes(base, ctx);
}
