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
import { stateOf, type CheckRow, type Rollup, type RollupSize } from '../model.ts';
import { summarize } from '../rollup.ts';
import {
  TARGET_STATES,
  type MonitorReader,
  type MonitorStore,
  type TargetListState,
} from '../store/repositories.ts';
import {
  MONITOR_KINDS,
  newPushToken,
  parseTargetSpec,
  specOf,
  TARGET_ID,
  type Target,
  type TargetSpec,
} from '../target.ts';
import { checkView, IdParams } from './schemas.ts';

const DAY = 86_400_000;

/** The tenant's target `id`, or NOT_FOUND: the first step of every route under `/v1/targets/:id`. */
export async function requireTarget(reader: MonitorReader, tenant: string, id: string): Promise<Target> {
  const target = await reader.getTarget(tenant, id);
  if (!target) throw new BeaconError('NOT_FOUND', `no target ${id}`);
  return target;
}

const HOUR = 3_600_000;

/** Uptime over 24 h, 7 d and 30 d of each of a page of targets: two queries whatever their number. */
export async function uptimes(
  reader: MonitorReader,
  tenant: string,
  ids: readonly string[],
  now: number,
): Promise<Map<string, { h24: number | null; d7: number | null; d30: number | null }>> {
  const from7 = now - 7 * DAY - (now % DAY);
  const [hours, days] = await Promise.all([
    reader.rollupsOf(tenant, ids, 'hour', now - DAY - (now % HOUR), now + 1),
    reader.rollupsOf(tenant, ids, 'day', now - 30 * DAY - (now % DAY), now + 1),
  ]);
  const byTarget = (rollups: readonly Rollup[]) => {
    const out = new Map<string, Rollup[]>();
    for (const r of rollups) out.set(r.target, [...(out.get(r.target) ?? []), r]);
    return out;
  };
  const h = byTarget(hours);
  const d = byTarget(days);
  const over = (rs: readonly Rollup[] | undefined, target: string, size: RollupSize) =>
    summarize(rs ?? [], { tenant, target, size }).total.uptime;
  return new Map(
    ids.map((id) => [
      id,
      {
        h24: over(h.get(id), id, 'hour'),
        d7: over(
          d.get(id)?.filter((r) => r.start >= from7),
          id,
          'day',
        ),
        d30: over(d.get(id), id, 'day'),
      },
    ]),
  );
}

/** What a list shows as a target's state: paused, or its newest check's, or unknown before one. */
export const targetState = (t: Target, last: CheckRow | undefined): TargetListState =>
  t.paused === true ? 'paused' : last === undefined ? 'unknown' : stateOf(last);

/** A target as `TargetView` shows it, given its newest check and uptime. */
function targetView(
  t: Target,
  last: CheckRow | undefined,
  uptime: { h24: number | null; d7: number | null; d30: number | null } | undefined,
) {
  return {
    ...t,
    createdAt: isoTime(t.createdAt),
    updatedAt: isoTime(t.updatedAt),
    state: targetState(t, last),
    lastCheck: last ? checkView(last) : null,
    uptime: uptime ?? { h24: null, d7: null, d30: null },
  };
}

/**
 * A new target from a create body (`id` optional, the rest a spec): TARGET_INVALID for a bad id or
 * spec. Without an id it is given `defaultId`.
 */
export function targetFromBody(
  body: unknown,
  tenant: string,
  defaultId: () => string,
  times: { createdAt: number; updatedAt: number },
): Target {
  const { id, ...rest } = (body ?? {}) as Record<string, unknown>;
  if (id !== undefined && (typeof id !== 'string' || !TARGET_ID.test(id))) {
    throw new BeaconError('TARGET_INVALID', 'id must be letters, digits, ".", "_" or "-" (at most 128)');
  }
  return { ...specOrThrow(rest), id: id ?? defaultId(), tenant, source: 'api', ...times };
}

/** A valid spec from the API, or TARGET_INVALID naming every problem. A push target gets a token. */
export function specOrThrow(input: unknown): TargetSpec {
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
export function tokenTaken(err: unknown): never {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505')
    throw new BeaconError('CONFLICT', 'another target has this pushToken');
  throw err;
}

export const TargetInput = Type.Unknown({
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
    const uptime = await uptimes(reader, t.tenant, [t.id], Date.now());
    return targetView(t, last, uptime.get(t.id));
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
      const now = Date.now();
      const target = targetFromBody(request.body, request.principal!.tenant, uuidv7, {
        createdAt: now,
        updatedAt: now,
      });
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
        description:
          'In id order, filtered on the server: one page costs the same few queries whatever its size. `total` (first page only) counts every target the filters pass.',
        security: [{ bearer: [] }],
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
          after: Type.Optional(Type.String({ description: 'The `next` cursor of the previous page.' })),
          q: Type.Optional(
            Type.String({
              maxLength: 200,
              description: 'Case-insensitive text found in the id, name, URL, host or DNS query.',
            }),
          ),
          state: Type.Optional(
            Type.Enum(TARGET_STATES, { description: 'Only targets in this state (see Target.state).' }),
          ),
          tag: Type.Optional(
            Type.String({ minLength: 1, maxLength: 64, description: 'Only targets with this tag.' }),
          ),
          kind: Type.Optional(Type.Enum(MONITOR_KINDS, { description: 'Only targets of this kind.' })),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(Type.Ref('Target')),
            next: Type.Union([Type.String(), Type.Null()]),
            total: Type.Union([Type.Integer(), Type.Null()], {
              description:
                'How many targets pass the filters (all pages); on the first page only, null after.',
            }),
          }),
          ...errorResponses(400, 401, 403, 429),
        },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const { limit, after, q, state, tag, kind } = request.query;
      const cursor = after === undefined ? undefined : decodeCursor(after, ['string'] as const)[0];
      const filter = { tenant, q, state, tag, kind };
      const rows = await reader.searchTargets({ ...filter, limit: limit + 1, after: cursor });
      // Counted for the first page only: the pages after it are the same list, and scrolling through
      // 20,000 targets should not count them again each time.
      const total = cursor === undefined ? await reader.countTargets(filter) : null;
      const shown = rows.slice(0, limit);
      const uptime = await uptimes(
        reader,
        tenant,
        shown.map((r) => r.target.id),
        Date.now(),
      );
      const { items, next } = page(
        rows,
        limit,
        (r) => [r.target.id],
        (r) => targetView(r.target, r.current, uptime.get(r.target.id)),
      );
      return { items, next, total };
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
