import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import Type, { type TProperties, type TSchema } from 'typebox';
import { BeaconError } from '../../errors/catalog.ts';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses, IsoTime } from '../../http/schemas.ts';
import { isoTime } from '../../wire/time.ts';
import { parseSegmentSpec, type SegmentSpec } from '../definitions.ts';
import { describeGoal, parseGoalSpec, type GoalSpec } from '../goals.ts';
import type { Definition } from '../model.ts';
import type { AnalyticsStore } from '../store/repositories.ts';
import { Filters, GoalSpecBody } from './schemas.ts';
import { ownedSite, type AccessHook } from './stats-access.ts';

/** Goals or segments a site may have. */
const MAX_PER_SITE = 200;
const Name = Type.String({ minLength: 1, maxLength: 120 });

const GoalBody = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    ...GoalSpecBody.properties,
    description: Type.String({ description: 'The goal in words, e.g. `signup where plan is pro`.' }),
    createdAt: IsoTime('When the goal was made.'),
    updatedAt: IsoTime('When it last changed.'),
  },
  { $id: 'Goal' },
);
const SegmentBody = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    filters: Filters,
    createdAt: IsoTime('When the segment was made.'),
    updatedAt: IsoTime('When it last changed.'),
  },
  { $id: 'Segment' },
);

/** A goal as the API shows it. */
export const goalJson = (d: Definition) => {
  const spec = d.spec as GoalSpec;
  return {
    id: d.id,
    name: d.name,
    ...(spec.page !== undefined && { page: spec.page }),
    ...(spec.event !== undefined && { event: spec.event }),
    ...(spec.props && {
      props: spec.props.map(([op, key, values]) => [op, key, [...values]] as [string, string, string[]]),
    }),
    description: describeGoal(spec),
    createdAt: isoTime(d.createdAt),
    updatedAt: isoTime(d.updatedAt),
  };
};

/** A segment as the API shows it. */
export const segmentJson = (d: Definition) => ({
  id: d.id,
  name: d.name,
  filters: (d.spec as SegmentSpec).filters.map((f) => [...f] as [string, string, string[]]),
  createdAt: isoTime(d.createdAt),
  updatedAt: isoTime(d.updatedAt),
});

/** What the goal and segment routes use. */
export interface DefinitionRouteOptions {
  readonly store: AnalyticsStore;
  readonly scope: RouteContext['scope'];
  readonly statsAuth: AccessHook;
}

/** One kind of definition and its wire shapes. */
interface Kind<Item extends TSchema> {
  readonly kind: Definition['kind'];
  readonly path: string;
  readonly prefix: string;
  readonly title: string;
  readonly unknown: 'GOAL_UNKNOWN' | 'SEGMENT_UNKNOWN';
  readonly body: TProperties;
  readonly item: Item;
  readonly json: (d: Definition) => object;
  readonly parse: (raw: Record<string, unknown>) => unknown;
  readonly summary: string;
}

/**
 * `/v1/sites/:id/goals` and `/v1/sites/:id/segments`: a site's saved goals and segments, made, changed
 * and deleted with an admin token, read with any stats access. Names are unique per site.
 */
export function registerDefinitions(app: FastifyInstance, options: DefinitionRouteOptions): void {
  registerKind(app, options, {
    kind: 'goal',
    path: 'goals',
    prefix: 'gl_',
    title: 'goal',
    unknown: 'GOAL_UNKNOWN',
    body: GoalSpecBody.properties,
    item: GoalBody,
    json: goalJson,
    parse: (raw) => parseGoalSpec(raw),
    summary: 'A page path pattern (`page`) or a custom event with property filters (`event`, `props`).',
  });
  registerKind(app, options, {
    kind: 'segment',
    path: 'segments',
    prefix: 'sg_',
    title: 'segment',
    unknown: 'SEGMENT_UNKNOWN',
    body: { filters: Type.Optional(Filters) },
    item: SegmentBody,
    json: segmentJson,
    parse: (raw) => parseSegmentSpec(raw).spec,
    summary: 'A saved set of filters, usable wherever a filter is as `["is", "segment", [ID]]`.',
  });
}

function registerKind<Item extends TSchema>(
  base: FastifyInstance,
  options: DefinitionRouteOptions,
  k: Kind<Item>,
): void {
  // The two kinds' shapes differ, so routes are typed by hand rather than from their schemas.
  const app = base;
  const { store, scope, statsAuth } = options;
  type SiteRoute = { Params: { id: string } };
  type ItemRoute = { Params: { id: string; item: string } };
  type Body = { Body: Record<string, unknown> & { name: string } };
  {
    const Params = Type.Object({ id: Type.String(), item: Type.String() });
    /** The definition's spec fields of a body, without its name. */
    const specOf = (body: Record<string, unknown>) => {
      const { name: _name, ...spec } = body;
      return spec;
    };
    const nameFree = async (tenant: string, site: string, name: string, self?: string) => {
      const all = await store.analytics.definitions(tenant, site, k.kind);
      if (all.some((d) => d.name === name && d.id !== self))
        throw new BeaconError(
          'NAME_TAKEN',
          `the site already has a ${k.title} named ${JSON.stringify(name)}`,
        );
      return all.length;
    };

    app.get<SiteRoute>(
      `/v1/sites/:id/${k.path}`,
      {
        onRequest: statsAuth,
        schema: {
          tags: ['analytics'],
          summary: `List a site's ${k.path}`,
          security: [{ bearer: [] }],
          params: Type.Object({ id: Type.String() }),
          response: {
            200: Type.Object({ items: Type.Array(k.item) }),
            ...errorResponses(401, 403, 404, 429),
          },
        },
      },
      async (request) => {
        const site = await ownedSite(store.analytics, request, request.params.id);
        return { items: (await store.analytics.definitions(site.tenant, site.id, k.kind)).map(k.json) };
      },
    );

    app.post<SiteRoute & Body>(
      `/v1/sites/:id/${k.path}`,
      {
        onRequest: scope('admin'),
        schema: {
          tags: ['analytics'],
          summary: `Make a ${k.title}`,
          description: k.summary,
          security: [{ bearer: [] }],
          params: Type.Object({ id: Type.String() }),
          body: Type.Object({ name: Name, ...k.body }, { additionalProperties: false }),
          response: { 201: k.item, ...errorResponses(400, 401, 403, 404, 409, 429) },
        },
      },
      async (request, reply) => {
        const site = await ownedSite(store.analytics, request, request.params.id);
        const spec = k.parse(specOf(request.body));
        if ((await nameFree(site.tenant, site.id, request.body.name)) >= MAX_PER_SITE)
          throw new BeaconError('CONFLICT', `a site has at most ${MAX_PER_SITE} ${k.path}`);
        const now = Date.now();
        const definition: Definition = {
          tenant: site.tenant,
          site: site.id,
          kind: k.kind,
          id: k.prefix + randomBytes(9).toString('base64url'),
          name: request.body.name,
          spec,
          createdAt: now,
          updatedAt: now,
        };
        await store.transaction((tx) => tx.analytics.putDefinition(definition));
        return reply.code(201).send(k.json(definition));
      },
    );

    app.patch<ItemRoute & { Body: Record<string, unknown> }>(
      `/v1/sites/:id/${k.path}/:item`,
      {
        onRequest: scope('admin'),
        schema: {
          tags: ['analytics'],
          summary: `Change a ${k.title}`,
          description: `Sends a new name, a new definition, or both; a new definition replaces the old one whole. ${k.summary}`,
          security: [{ bearer: [] }],
          params: Params,
          body: Type.Object(
            { name: Type.Optional(Name), ...k.body },
            { additionalProperties: false, minProperties: 1 },
          ),
          response: { 200: k.item, ...errorResponses(400, 401, 403, 404, 409, 429) },
        },
      },
      async (request) => {
        const site = await ownedSite(store.analytics, request, request.params.id);
        const old = await store.analytics.definition(site.tenant, site.id, k.kind, request.params.item);
        if (!old) throw new BeaconError(k.unknown, `no ${k.title} ${request.params.item}`);
        const body = request.body;
        const spec = Object.keys(specOf(body)).length > 0 ? k.parse(specOf(body)) : old.spec;
        const name = typeof body.name === 'string' ? body.name : old.name;
        await nameFree(site.tenant, site.id, name, old.id);
        const next: Definition = { ...old, name, spec, updatedAt: Date.now() };
        await store.transaction((tx) => tx.analytics.putDefinition(next));
        return k.json(next);
      },
    );

    app.delete<ItemRoute>(
      `/v1/sites/:id/${k.path}/:item`,
      {
        onRequest: scope('admin'),
        schema: {
          tags: ['analytics'],
          summary: `Delete a ${k.title}`,
          description:
            k.kind === 'goal'
              ? 'Funnels, filters and reports that name it by name answer GOAL_UNKNOWN afterwards.'
              : 'Filters that name it answer SEGMENT_UNKNOWN afterwards.',
          security: [{ bearer: [] }],
          params: Params,
          response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 429) },
        },
      },
      async (request, reply) => {
        const site = await ownedSite(store.analytics, request, request.params.id);
        const gone = await store.transaction((tx) =>
          tx.analytics.deleteDefinition(site.tenant, site.id, k.kind, request.params.item),
        );
        if (!gone) throw new BeaconError(k.unknown, `no ${k.title} ${request.params.item}`);
        return reply.code(204).send(null);
      },
    );
  }
}
