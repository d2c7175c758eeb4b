import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { v7 as uuidv7 } from 'uuid';
import { BeaconError } from '../../errors/catalog.ts';
import { requireContentType } from '../../http/auth.ts';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses } from '../../http/schemas.ts';
import { decodeCursor, page } from '../../wire/cursor.ts';
import { isoTime } from '../../wire/time.ts';
import { stateOf, type CheckRow, type RollupSize } from '../model.ts';
import { ROLLUP_MS, summarize } from '../rollup.ts';
import type { MonitorReader, MonitorStore } from '../store/repositories.ts';
import { newPushToken, parseTargetSpec, specOf, TARGET_ID, type Target, type TargetSpec } from '../target.ts';
import { checkView, IdParams } from './schemas.ts';

const DAY = 86_400_000;

/** The tenant's target `id`, or NOT_FOUND: the first step of every route under `/v1/targets/:id`. */
export async function requireTarget(reader: MonitorReader, tenant: string, id: string): Promise<Target> {
  const target = await reader.getTarget(tenant, id);
  if (!target) throw new BeaconError('NOT_FOUND', `no target ${id}`);
  return target;
}

async function uptime(reader: MonitorReader, t: Target, now: number) {
  const over = async (size: RollupSize, ms: number) => {
    const rollups = await reader.rollups({
      tenant: t.tenant,
      target: t.id,
      size,
      from: now - ms - (now % ROLLUP_MS[size]),
      to: now + 1,
    });
    return summarize(rollups, { tenant: t.tenant, target: t.id, size }).total.uptime;
  };
  return { h24: await over('hour', DAY), d7: await over('day', 7 * DAY), d30: await over('day', 30 * DAY) };
}

/** A target as `TargetView` shows it, given its newest check. */
async function targetView(reader: MonitorReader, t: Target, last: CheckRow | undefined, now: number) {
  return {
    ...t,
    createdAt: isoTime(t.createdAt),
    updatedAt: isoTime(t.updatedAt),
    state: last === undefined ? ('unknown' as const) : stateOf(last),
    lastCheck: last ? checkView(last) : null,
    uptime: await uptime(reader, t, now),
  };
}

/** A valid spec from the API, or TARGET_INVALID naming every problem. A push target gets a token. */
function specOrThrow(input: unknown): TargetSpec {
  const parsed = parseTargetSpec(input);
  if ('problems' in parsed) {
    throw new BeaconError(
      'TARGET_INVALID',
      parsed.problems
        .map((p) => `${p.path.slice(1).replace(/\//g, '.') || 'target'} ${p.message}`)
        .join('; '),
    );
  }
  const spec = parsed.spec;
  return spec.kind === 'push' && spec.pushToken === undefined ? { ...spec, pushToken: newPushToken() } : spec;
}

/** A push token another target holds breaks the store's unique index: a conflict, not a bug. */
function tokenTaken(err: unknown): never {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505')
    throw new BeaconError('CONFLICT', 'another target has this pushToken');
  throw err;
}

const TargetInput = Type.Unknown({
  description:
    'A target: the fields of its kind in the Target schema (`kind` defaults to http) except id (optional here, chosen by the server when absent), source, timestamps, state and uptime. A push target without `pushToken` gets one.',
});

/** `/v1/targets`: create, list, read, change and delete targets. */
export function registerTargetRoutes(base: FastifyInstance, ctx: RouteContext<MonitorStore>): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { store, scope } = ctx;
  const reader = store.monitor;
  const changed = () => ctx.targetsChanged?.();

  async function view(t: Target) {
    const [last] = await reader.listChecks({ tenant: t.tenant, target: t.id, limit: 1 });
    return targetView(reader, t, last, Date.now());
  }

  app.post(
    '/v1/targets',
    {
      onRequest: [scope('admin'), requireContentType('application/json')],
      schema: {
        tags: ['monitor'],
        summary: 'Create a target',
        description: 'Validated like the targets file; the prober checks it from its next slot on.',
        security: [{ bearer: [] }],
        body: TargetInput,
        response: { 201: Type.Ref('Target'), ...errorResponses(400, 401, 403, 409, 415, 429) },
      },
    },
    async (request, reply) => {
      const tenant = request.principal!.tenant;
      const { id, ...rest } = (request.body ?? {}) as Record<string, unknown>;
      if (id !== undefined && (typeof id !== 'string' || !TARGET_ID.test(id))) {
        throw new BeaconError('TARGET_INVALID', 'id must be letters, digits, ".", "_" or "-" (at most 128)');
      }
      const spec = specOrThrow(rest);
      const now = Date.now();
      const target: Target = {
        ...spec,
        id: id ?? uuidv7(),
        tenant,
        source: 'api',
        createdAt: now,
        updatedAt: now,
      };
      if (!(await store.targets.create(target).catch(tokenTaken)))
        throw new BeaconError('CONFLICT', `target ${target.id} exists`);
      changed();
      return reply.code(201).send(await view(target));
    },
  );

  app.get(
    '/v1/targets',
    {
      onRequest: scope('read'),
      schema: {
        tags: ['monitor'],
        summary: 'List targets with their current state and uptime',
        security: [{ bearer: [] }],
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
          after: Type.Optional(Type.String({ description: 'The `next` cursor of the previous page.' })),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(Type.Ref('Target')),
            next: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errorResponses(400, 401, 403, 429),
        },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const { limit, after } = request.query;
      const cursor = after === undefined ? undefined : decodeCursor(after, ['string'] as const)[0];
      const rows = await reader.listTargets(tenant, limit + 1, cursor);
      const latest = new Map((await reader.latestChecks(tenant)).map((c) => [c.target, c]));
      const now = Date.now();
      const { items, next } = page(
        rows,
        limit,
        (t) => [t.id],
        (t) => targetView(reader, t, latest.get(t.id), now),
      );
      return { items: await Promise.all(items), next };
    },
  );

  app.get(
    '/v1/targets/:id',
    {
      onRequest: scope('read'),
      schema: {
        tags: ['monitor'],
        summary: 'One target',
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 200: Type.Ref('Target'), ...errorResponses(401, 403, 404, 429) },
      },
    },
    async (request) => view(await requireTarget(reader, request.principal!.tenant, request.params.id)),
  );

  app.patch(
    '/v1/targets/:id',
    {
      onRequest: [scope('admin'), requireContentType('application/json')],
      schema: {
        tags: ['monitor'],
        summary: 'Change a target',
        description:
          'Fields given replace the stored ones; `null` clears an optional field. Targets from the file are read-only here.',
        security: [{ bearer: [] }],
        params: IdParams,
        body: TargetInput,
        response: { 200: Type.Ref('Target'), ...errorResponses(400, 401, 403, 404, 409, 415, 429) },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const target = await requireTarget(reader, tenant, request.params.id);
      if (target.source === 'file') throw new BeaconError('TARGET_READ_ONLY');
      const body = request.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        throw new BeaconError('NOT_AN_OBJECT');
      const merged: Record<string, unknown> = { ...specOf(target) };
      for (const [k, v] of Object.entries(body)) {
        if (k === 'id' && v !== target.id) throw new BeaconError('TARGET_INVALID', 'id cannot change');
        if (k === 'id') continue;
        if (v === null) delete merged[k];
        else merged[k] = v;
      }
      const spec = specOrThrow(merged);
      const now = Date.now();
      if (!(await store.targets.update(tenant, target.id, spec, now).catch(tokenTaken)))
        throw new BeaconError('NOT_FOUND');
      changed();
      return view({
        ...spec,
        id: target.id,
        tenant,
        source: target.source,
        createdAt: target.createdAt,
        updatedAt: now,
      });
    },
  );

  app.delete(
    '/v1/targets/:id',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['monitor'],
        summary: 'Delete a target',
        description: 'Stops checking it. Its stored checks and rollups stay until retention removes them.',
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 409, 429) },
      },
    },
    async (request, reply) => {
      const tenant = request.principal!.tenant;
      const target = await requireTarget(reader, tenant, request.params.id);
      if (target.source === 'file') throw new BeaconError('TARGET_READ_ONLY');
      await store.targets.delete(tenant, target.id);
      changed();
      return reply.code(204).send(null);
    },
  );
}
