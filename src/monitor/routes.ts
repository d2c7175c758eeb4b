import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { v7 as uuidv7 } from 'uuid';
import { BeaconError } from '../errors/catalog.ts';
import { requireContentType } from '../http/auth.ts';
import type { RouteContext } from '../http/context.ts';
import type { MonitorReader, MonitorStore } from './store/repositories.ts';
import { decodeCursor, encodeCursor } from '../wire/cursor.ts';
import { errorResponses, IsoTime } from '../http/schemas.ts';
import type { CheckRow, RollupSize } from './model.ts';
import { ROLLUP_MS, summarize, type SummaryBucket } from './rollup.ts';
import { parseTargetSpec, TARGET_ID, TargetSpecSchema, type Target, type TargetSpec } from './target.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const NullableIso = (d: string) => Type.Union([IsoTime(d), Type.Null()]);
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

const CheckItem = Type.Object(
  {
    target: Type.String(),
    region: Type.String(),
    slot: Type.Integer({ description: 'floor((scheduledAt - offset) / interval).' }),
    scheduledAt: IsoTime('When the slot began: the check identity with target and region.'),
    startedAt: IsoTime('When the request began; minus scheduledAt is the schedule jitter.'),
    ok: Type.Boolean(),
    durationMs: Type.Number(),
    phases: Type.Object({
      dnsMs: Type.Number(),
      connectMs: Type.Number(),
      tlsMs: Type.Number(),
      ttfbMs: Type.Number(),
      transferMs: Type.Number(),
    }),
    status: Type.Union([Type.Integer(), Type.Null()]),
    httpVersion: Type.Union([Type.String(), Type.Null()]),
    bytes: Type.Integer(),
    tlsExpiresAt: NullableIso('When the certificate expires (https).'),
    patternMatched: Type.Union([Type.Boolean(), Type.Null()]),
    redirects: Type.Integer(),
    error: Type.Union([Type.Object({ class: Type.String(), detail: Type.String() }), Type.Null()]),
  },
  { $id: 'Check' },
);

const checkView = (c: CheckRow) => ({
  ...c,
  scheduledAt: iso(c.scheduledAt)!,
  startedAt: iso(c.startedAt)!,
  tlsExpiresAt: iso(c.tlsExpiresAt),
});

const Summary = Type.Object({
  start: IsoTime('Bucket start.'),
  checks: Type.Integer(),
  up: Type.Integer(),
  uptime: Type.Union([Type.Number(), Type.Null()], { description: 'Percent of checks that were up.' }),
  latencyMs: Type.Object({
    avg: NullableNumber,
    p50: NullableNumber,
    p95: NullableNumber,
    p99: NullableNumber,
  }),
  errors: Type.Record(Type.String(), Type.Integer(), { description: 'Failures by error class.' }),
});
const summaryView = (b: SummaryBucket) => ({
  ...b,
  start: iso(b.start)!,
  errors: b.errors as Record<string, number>,
});

const TargetView = Type.Object(
  {
    ...TargetSpecSchema.properties,
    id: Type.String(),
    source: Type.Union([Type.Literal('api'), Type.Literal('file')]),
    createdAt: IsoTime('When the target was created.'),
    updatedAt: IsoTime('When the target last changed.'),
    state: Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('unknown')], {
      description: 'Outcome of the newest stored check.',
    }),
    lastCheck: Type.Union([Type.Ref('Check'), Type.Null()]),
    uptime: Type.Object(
      { h24: NullableNumber, d7: NullableNumber, d30: NullableNumber },
      { description: 'Percent of checks up over the last 24 hours, 7 days and 30 days.' },
    ),
  },
  { $id: 'Target' },
);

const DAY = 86_400_000;

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

async function targetView(reader: MonitorReader, t: Target, last: CheckRow | undefined, now: number) {
  return {
    ...t,
    createdAt: iso(t.createdAt)!,
    updatedAt: iso(t.updatedAt)!,
    state: last === undefined ? ('unknown' as const) : last.ok ? ('up' as const) : ('down' as const),
    lastCheck: last ? checkView(last) : null,
    uptime: await uptime(reader, t, now),
  };
}

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
  return parsed.spec;
}

const IdParams = Type.Object({ id: Type.String({ description: 'Target id.' }) });
const TargetInput = Type.Unknown({
  description:
    'A target: the fields of the Target schema except id (optional here, chosen by the server when absent), source, timestamps, state and uptime.',
});

/** `/v1/targets` CRUD, a target's checks (cursor-paged) and its summary from rollups. */
export function registerMonitorRoutes(base: FastifyInstance, ctx: RouteContext<MonitorStore>): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { store, scope } = ctx;
  const reader = store.monitor;
  const changed = () => ctx.targetsChanged?.();
  app.addSchema(CheckItem);
  app.addSchema(TargetView);

  async function owned(tenant: string, id: string): Promise<Target> {
    const target = await reader.getTarget(tenant, id);
    if (!target) throw new BeaconError('NOT_FOUND', `no target ${id}`);
    return target;
  }
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
      if (!(await store.targets.create(target)))
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
      const page = rows.slice(0, limit);
      const latest = new Map((await reader.latestChecks(tenant)).map((c) => [c.target, c]));
      const now = Date.now();
      return {
        items: await Promise.all(page.map((t) => targetView(reader, t, latest.get(t.id), now))),
        next: rows.length > limit ? encodeCursor([page.at(-1)!.id]) : null,
      };
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
    async (request) => view(await owned(request.principal!.tenant, request.params.id)),
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
      const target = await owned(tenant, request.params.id);
      if (target.source === 'file') throw new BeaconError('TARGET_READ_ONLY');
      const body = request.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        throw new BeaconError('NOT_AN_OBJECT');
      const { id: _i, tenant: _t, source: _s, createdAt: _c, updatedAt: _u, ...current } = target;
      const merged: Record<string, unknown> = { ...current };
      for (const [k, v] of Object.entries(body)) {
        if (k === 'id' && v !== target.id) throw new BeaconError('TARGET_INVALID', 'id cannot change');
        if (k === 'id') continue;
        if (v === null) delete merged[k];
        else merged[k] = v;
      }
      const spec = specOrThrow(merged);
      const now = Date.now();
      if (!(await store.targets.update(tenant, target.id, spec, now))) throw new BeaconError('NOT_FOUND');
      changed();
      return view({ ...target, ...spec, updatedAt: now });
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
      const target = await owned(tenant, request.params.id);
      if (target.source === 'file') throw new BeaconError('TARGET_READ_ONLY');
      await store.targets.delete(tenant, target.id);
      changed();
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/targets/:id/checks',
    {
      onRequest: scope('read'),
      schema: {
        tags: ['monitor'],
        summary: "A target's checks, newest first",
        description: 'One row per (target, region, slot), paged by an opaque keyset cursor.',
        security: [{ bearer: [] }],
        params: IdParams,
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
          after: Type.Optional(Type.String({ description: 'The `next` cursor of the previous page.' })),
          from: Type.Optional(IsoTime('Only checks scheduled at or after this time.')),
          to: Type.Optional(IsoTime('Only checks scheduled before this time.')),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(Type.Ref('Check')),
            next: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errorResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const target = await owned(tenant, request.params.id);
      const { limit, after, from, to } = request.query;
      const cursor = after === undefined ? undefined : decodeCursor(after, ['number', 'string'] as const);
      const rows = await reader.listChecks({
        tenant,
        target: target.id,
        limit: limit + 1,
        before: cursor && { scheduledAt: cursor[0], region: cursor[1] },
        from: from === undefined ? undefined : Date.parse(from),
        to: to === undefined ? undefined : Date.parse(to),
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(checkView),
        next: rows.length > limit && last ? encodeCursor([last.scheduledAt, last.region]) : null,
      };
    },
  );

  app.get(
    '/v1/targets/:id/incidents',
    {
      onRequest: scope('read'),
      schema: {
        tags: ['monitor'],
        summary: "A target's incidents, newest first",
        description:
          'An incident opens after `downAfter` failed checks in a row in one region (dated from the first) and closes after `upAfter` good ones.',
        security: [{ bearer: [] }],
        params: IdParams,
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
          after: Type.Optional(Type.String({ description: 'The `next` cursor of the previous page.' })),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                region: Type.String(),
                startedAt: IsoTime('Slot start of the first failed check.'),
                endedAt: NullableIso('Slot start of the check that closed it; null while open.'),
                cause: Type.String({ description: 'Error class of the check that opened it.' }),
                detail: Type.String(),
              }),
            ),
            next: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errorResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const target = await owned(tenant, request.params.id);
      const { limit, after } = request.query;
      const before = after === undefined ? undefined : decodeCursor(after, ['number'] as const)[0];
      const rows = await reader.listIncidents(tenant, target.id, limit + 1, before);
      const page = rows.slice(0, limit);
      return {
        items: page.map((i) => ({
          region: i.region,
          startedAt: iso(i.startedAt)!,
          endedAt: iso(i.endedAt),
          cause: i.cause,
          detail: i.detail,
        })),
        next: rows.length > limit ? encodeCursor([page.at(-1)!.startedAt]) : null,
      };
    },
  );

  app.get(
    '/v1/targets/:id/summary',
    {
      onRequest: scope('read'),
      schema: {
        tags: ['monitor'],
        summary: 'Uptime, latency percentiles and errors per bucket',
        description:
          'Read from minute, hour or day rollups (all regions merged), so 90 days cost 90 rows. Buckets are UTC-aligned; latency percentiles are bucket upper bounds.',
        security: [{ bearer: [] }],
        params: IdParams,
        querystring: Type.Object({
          from: Type.Optional(IsoTime('Start (default: 24 hours ago).')),
          to: Type.Optional(IsoTime('End, exclusive (default: now).')),
          bucket: Type.Union([Type.Literal('minute'), Type.Literal('hour'), Type.Literal('day')], {
            default: 'hour',
          }),
        }),
        response: {
          200: Type.Object({ bucket: Type.String(), total: Summary, buckets: Type.Array(Summary) }),
          ...errorResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const target = await owned(tenant, request.params.id);
      const { bucket } = request.query;
      const to = request.query.to === undefined ? Date.now() + 1 : Date.parse(request.query.to);
      const from = request.query.from === undefined ? to - DAY : Date.parse(request.query.from);
      const size = ROLLUP_MS[bucket];
      if (to <= from) throw new BeaconError('VALIDATION_FAILED', 'to must be after from');
      if ((to - from) / size > 10_000) {
        throw new BeaconError(
          'VALIDATION_FAILED',
          `more than 10000 ${bucket} buckets; choose a larger bucket`,
        );
      }
      const rollups = await reader.rollups({
        tenant,
        target: target.id,
        size: bucket,
        from: from - (from % size),
        to,
      });
      const { buckets, total } = summarize(rollups, { tenant, target: target.id, size: bucket });
      return { bucket, total: summaryView(total), buckets: buckets.map(summaryView) };
    },
  );
}
