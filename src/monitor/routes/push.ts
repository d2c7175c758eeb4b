import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { BeaconError } from '../../errors/catalog.ts';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses } from '../../http/schemas.ts';
import type { TenantRepositories } from '../../tenants/store/repositories.ts';
import type { MonitorStore } from '../store/repositories.ts';

const PushQuery = Type.Object(
  {
    status: Type.Optional(
      Type.Union([Type.Literal('up'), Type.Literal('down')], {
        description: 'What the job reports (default up).',
      }),
    ),
    msg: Type.Optional(
      Type.String({ maxLength: 500, description: 'A short message, shown with the check.' }),
    ),
    ping: Type.Optional(
      Type.String({
        pattern: '^[0-9]{1,9}(\\.[0-9]{1,3})?$',
        description: 'How long the job took, ms: the check’s duration.',
      }),
    ),
  },
  { additionalProperties: false },
);

/**
 * `/v1/push/:token`: the heartbeat URL a cron job or service calls (GET or POST, as Uptime Kuma's push
 * monitors take it). The token in the path is the credential, so no bearer token is needed; an
 * unknown token, or one of a disabled tenant, is 404 like any missing resource.
 */
export function registerPushRoutes(
  base: FastifyInstance,
  ctx: RouteContext<MonitorStore & TenantRepositories>,
): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const handler = async (
    request: FastifyRequest<{ Params: { token: string }; Querystring: Type.Static<typeof PushQuery> }>,
  ) => {
    const { status = 'up', msg = '', ping } = request.query;
    const found = await ctx.store.pushes.record(request.params.token, {
      at: Date.now(),
      status,
      message: msg,
      durationMs: ping === undefined ? null : Number(ping),
    });
    const tenant = found && (await ctx.store.tenants.get(found.tenant));
    if (!found || !tenant || (tenant.disabledAt ?? null) !== null)
      throw new BeaconError('NOT_FOUND', 'no push target has this token');
    return { ok: true };
  };
  for (const method of ['GET', 'POST'] as const) {
    app.route({
      method,
      url: '/v1/push/:token',
      schema: {
        tags: ['monitor'],
        summary: `Record a heartbeat (${method})`,
        description:
          'A push target is down when no push arrives within its interval plus grace, or when the newest says status=down.',
        params: Type.Object({ token: Type.String({ pattern: '^[A-Za-z0-9_-]{16,128}$' }) }),
        querystring: PushQuery,
        response: { 200: Type.Object({ ok: Type.Boolean() }), ...errorResponses(400, 404) },
      },
      handler,
    });
  }
}
