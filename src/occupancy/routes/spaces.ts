import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { v7 as uuidv7 } from 'uuid';
import { BeaconError } from '../../errors/catalog.ts';
import { requireContentType } from '../../http/auth.ts';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses } from '../../http/schemas.ts';
import { isoTimeOrNull } from '../../wire/time.ts';
import { audit } from '../audit.ts';
import { Hierarchy } from '../hierarchy.ts';
import type { OpenHours, Space } from '../model.ts';
import { openHoursProblem } from '../open-hours.ts';
import type { OccupancyReader, OccupancyStore } from '../store/repositories.ts';
import { registerNamedRoutes } from './named.ts';
import { Id, IdParams, Name, security, SpaceItem, spaceJson, SpaceSettingsBody, tags } from './schemas.ts';

/** Refuses open hours the schema cannot judge (an empty opening). */
function checkOpenHours(hours: readonly OpenHours[] | null | undefined): void {
  const problem = hours ? openHoursProblem(hours) : undefined;
  if (problem) throw new BeaconError('VALIDATION_FAILED', problem);
}

/** Spaces with the parent each has now (moves change it from their date on). */
async function withParentsNow(reader: OccupancyReader, tenant: string, spaces: Space[]): Promise<Space[]> {
  const moves = await reader.moves(tenant);
  if (moves.length === 0) return spaces;
  const tree = new Hierarchy(spaces, moves);
  const now = Date.now();
  return spaces.map((s) => ({ ...s, parent: tree.parentAt(s.id, now) }));
}

/**
 * `/v1/spaces`: create, get, list, change (name, capacity, alert delay, open hours) and delete the
 * spaces people are counted in. Moves are their own resource (moves.ts).
 */
export function registerSpaceRoutes(base: FastifyInstance, ctx: RouteContext<OccupancyStore>): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { store, scope } = ctx;
  app.post(
    '/v1/spaces',
    {
      onRequest: [scope('admin'), requireContentType('application/json')],
      schema: {
        tags,
        security,
        summary: 'Create a space',
        description:
          'A space may sit inside a parent (building › floor › room); counts roll up to every ancestor. Move it later with POST /v1/spaces/:id/moves.',
        body: Type.Object(
          {
            id: Type.Optional(Id('Your id for the space; a UUIDv7 when omitted.')),
            name: Name,
            parent: Type.Optional(Type.Union([Type.Null(), Type.String()])),
            ...SpaceSettingsBody,
          },
          { additionalProperties: false },
        ),
        response: { 201: SpaceItem, ...errorResponses(400, 401, 403, 404, 409, 415, 429) },
      },
    },
    async (request, reply) => {
      const tenant = request.principal!.tenant;
      const body = request.body;
      checkOpenHours(body.openHours);
      const space: Space = {
        id: body.id ?? uuidv7(),
        name: body.name,
        parent: body.parent ?? null,
        createdAt: Date.now(),
        capacity: body.capacity ?? null,
        alertAfterMinutes: body.alertAfterMinutes ?? null,
        openHours: body.openHours ?? null,
      };
      await store.transaction(async (tx) => {
        if (space.parent !== null && !(await tx.occupancy.space(tenant, space.parent))) {
          throw new BeaconError('SPACE_NOT_FOUND', `no parent space ${space.parent}`);
        }
        if (!(await tx.occupancy.insertSpace(tenant, space))) {
          throw new BeaconError('ALREADY_EXISTS', `space ${space.id} already exists`);
        }
      });
      return reply.code(201).send(spaceJson(space));
    },
  );
  app.patch(
    '/v1/spaces/:id',
    {
      onRequest: [scope('admin'), requireContentType('application/json')],
      schema: {
        tags,
        security,
        summary: 'Change a space: its name, capacity, alert delay or open hours',
        description:
          'Only the fields given change; null clears a setting. Its parent changes by moves (POST /v1/spaces/:id/moves). Recorded in the audit trail.',
        params: IdParams,
        body: Type.Object(
          { name: Type.Optional(Name), ...SpaceSettingsBody },
          { additionalProperties: false },
        ),
        response: { 200: SpaceItem, ...errorResponses(400, 401, 403, 404, 415, 429) },
      },
    },
    async (request) => {
      const { tenant, tokenId } = request.principal!;
      const { id } = request.params;
      const body = request.body;
      checkOpenHours(body.openHours);
      const space = await store.transaction(async (tx) => {
        const old = await tx.occupancy.space(tenant, id);
        if (!old) throw new BeaconError('SPACE_NOT_FOUND', `no space ${id}`);
        if (body.name !== undefined) await tx.occupancy.rename('space', tenant, id, body.name);
        const settings = {
          capacity: body.capacity === undefined ? (old.capacity ?? null) : body.capacity,
          alertAfterMinutes:
            body.alertAfterMinutes === undefined ? (old.alertAfterMinutes ?? null) : body.alertAfterMinutes,
          openHours: body.openHours === undefined ? (old.openHours ?? null) : body.openHours,
        };
        await tx.occupancy.updateSpace(tenant, id, settings);
        await audit(tx.occupancy, tenant, tokenId, 'space.changed', id, body);
        return (await withParentsNow(tx.occupancy, tenant, [(await tx.occupancy.space(tenant, id))!]))[0]!;
      });
      return spaceJson(space);
    },
  );
  registerNamedRoutes(base, ctx, {
    kind: 'space',
    plural: 'spaces',
    item: SpaceItem,
    json: spaceJson,
    notFound: 'SPACE_NOT_FOUND',
    getSummary: 'Get a space, with every parent it has had',
    list: async (query) => withParentsNow(store.occupancy, query.tenant, await store.occupancy.spaces(query)),
    get: async (tx, tenant, id) => {
      const space = await tx.space(tenant, id);
      return space && (await withParentsNow(tx, tenant, [space]))[0];
    },
    detail: async (tenant, space) => {
      // The space as stored holds the parent it was created with; moves give the rest.
      const created = (await store.occupancy.space(tenant, space.id)) ?? space;
      const tree = new Hierarchy([created], await store.occupancy.moves(tenant));
      return {
        parents: tree.parentsOf(space.id).map((p) => ({
          parent: p.parent,
          from: isoTimeOrNull(p.from),
          to: isoTimeOrNull(p.to),
        })),
      };
    },
    inUse: async (tx, tenant, id) =>
      (await tx.referencesToSpace(tenant, id)) > 0
        ? 'child spaces (now or before), moves into it, or doorways'
        : undefined,
    deleteDescription:
      'Only a space that no doorway, no child space and no move refers to (at any time). Its own moves and corrections go with it.',
    rename: false,
    deleted: (tx, tenant, space, actor) =>
      audit(tx, tenant, actor, 'space.deleted', space.id, { name: space.name }),
  });
}
