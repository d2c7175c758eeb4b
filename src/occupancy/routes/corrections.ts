import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { v7 as uuidv7 } from 'uuid';
import { BeaconError } from '../../errors/catalog.ts';
import { requireContentType } from '../../http/auth.ts';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses, IsoTime } from '../../http/schemas.ts';
import { decodeCursor, encodeCursor } from '../../wire/cursor.ts';
import { epochMs, isoTime } from '../../wire/time.ts';
import { audit } from '../audit.ts';
import type { Correction } from '../model.ts';
import { nextResetAtOrAfter } from '../reset.ts';
import { countSettings } from '../settings.ts';
import type { OccupancyStore } from '../store/repositories.ts';
import { pushCounts } from './push.ts';
import {
  AuditItem,
  auditJson,
  CorrectionItem,
  correctionJson,
  IdParams,
  NewestQuery,
  newestAfter,
  pageOf,
  security,
  tags,
} from './schemas.ts';

const DAY_MS = 86_400_000;

/** An anchor as the corrections listing answers it: a daily reset, or a headcount with its record. */
const AnchorItem = Type.Object({
  kind: Type.Union([Type.Literal('reset'), Type.Literal('headcount')], {
    description: 'reset: the daily reset (occupancy.resetTime), to 0; headcount: an operator’s correction.',
  }),
  at: IsoTime('From this instant corrected counts start again from `count`.'),
  count: Type.Integer(),
  correction: Type.Union([CorrectionItem, Type.Null()], {
    description: 'The headcount’s record; null for a reset.',
  }),
});

/**
 * `/v1/spaces/:id/corrections`: headcounts ("the count was C at time T"), from which corrected counts
 * start again, listed with the daily resets that do the same; and the occupancy audit trail.
 */
export function registerCorrectionRoutes(base: FastifyInstance, ctx: RouteContext<OccupancyStore>): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { store, scope, config } = ctx;
  const settings = countSettings(config);

  async function requireSpace(tenant: string, id: string): Promise<void> {
    if (!(await store.occupancy.space(tenant, id)))
      throw new BeaconError('SPACE_NOT_FOUND', `no space ${id}`);
  }

  app.post(
    '/v1/spaces/:id/corrections',
    {
      onRequest: [scope('admin'), requireContentType('application/json')],
      schema: {
        tags,
        security,
        summary: 'Record a headcount: the count was C at time T',
        description:
          'Corrected counts of the space after `at` start from `count` (crossings at or before `at` no longer change them), through late events and replays, until a later headcount or daily reset. Raw counts are unchanged. A headcount at the same instant replaces the earlier one. Recorded in the audit trail.',
        params: IdParams,
        body: Type.Object(
          {
            at: IsoTime('When the people were counted.'),
            count: Type.Integer({ minimum: 0, maximum: 10_000_000 }),
            note: Type.Optional(Type.String({ maxLength: 500, description: 'Who counted, how.' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: CorrectionItem, ...errorResponses(400, 401, 403, 404, 415, 429) },
      },
    },
    async (request, reply) => {
      const { tenant, tokenId } = request.principal!;
      const { id } = request.params;
      const correction: Correction = {
        id: uuidv7(),
        space: id,
        at: epochMs(request.body.at),
        count: request.body.count,
        note: request.body.note ?? '',
        createdAt: Date.now(),
        createdBy: tokenId,
      };
      await store.transaction(async (tx) => {
        if (!(await tx.occupancy.space(tenant, id)))
          throw new BeaconError('SPACE_NOT_FOUND', `no space ${id}`);
        const replaced = await tx.occupancy.putCorrection(tenant, correction);
        await audit(tx.occupancy, tenant, tokenId, 'correction.set', id, {
          correction: correction.id,
          at: isoTime(correction.at),
          count: correction.count,
          note: correction.note,
          ...(replaced
            ? { replaced: { id: replaced.id, count: replaced.count, by: replaced.createdBy } }
            : {}),
        });
      });
      await pushCounts(ctx, tenant, [id]);
      return reply.code(201).send(correctionJson(correction));
    },
  );

  app.get(
    '/v1/spaces/:id/corrections',
    {
      onRequest: scope('read'),
      schema: {
        tags,
        security,
        summary: 'Headcounts and daily resets of a space, in time order',
        description:
          'Every anchor corrected counts start again from in [from, to): headcounts and, when occupancy.resetTime is set, the daily resets. Paged by cursor; without `from` the last 7 days.',
        params: IdParams,
        querystring: Type.Object({
          from: Type.Optional(IsoTime('Start (inclusive).')),
          to: Type.Optional(IsoTime('End (exclusive); now when omitted.')),
          limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
          after: Type.Optional(Type.String({ description: 'The `next` cursor of the previous page.' })),
        }),
        response: { 200: pageOf(AnchorItem), ...errorResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const { id } = request.params;
      const q = request.query;
      const to = epochMs(q.to) ?? Date.now();
      const from = epochMs(q.from) ?? to - 7 * DAY_MS;
      if (to < from) throw new BeaconError('VALIDATION_FAILED', '`to` must not be before `from`');
      await requireSpace(tenant, id);
      // Keyset (at, kind, id): at one instant a reset comes before a headcount, as it applies first.
      const after = q.after === undefined ? undefined : decodeCursor(q.after, ['number', 'number', 'string']);
      const start = after ? after[0] : from;
      const headcounts = await store.occupancy.corrections({
        tenant,
        space: id,
        from,
        to,
        limit: q.limit + 1,
        ...(after
          ? {
              after: after[1] === 0 ? { at: after[0] - 1, id: '\u{10ffff}' } : { at: after[0], id: after[2] },
            }
          : {}),
      });
      // Resets are made one by one from the start, so a page costs its own length, whatever the range.
      const resets: number[] = [];
      if (settings.reset) {
        // A reset at the cursor's instant was listed before anything else of that instant.
        let r = nextResetAtOrAfter(after ? start + 1 : start, settings.reset);
        while (r < to && resets.length <= q.limit) {
          resets.push(r);
          r = nextResetAtOrAfter(r + 1, settings.reset);
        }
      }
      const anchors = [
        ...resets.map((at) => ({
          key: [at, 0, ''] as const,
          item: { kind: 'reset' as const, at: isoTime(at), count: 0, correction: null },
        })),
        ...headcounts.map((c) => ({
          key: [c.at, 1, c.id] as const,
          item: {
            kind: 'headcount' as const,
            at: isoTime(c.at),
            count: c.count,
            correction: correctionJson(c),
          },
        })),
      ].sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || (a.key[2] < b.key[2] ? -1 : 1));
      const shown = anchors.slice(0, q.limit);
      const last = shown.at(-1);
      return {
        items: shown.map((a) => a.item),
        next: anchors.length > q.limit && last ? encodeCursor([...last.key]) : null,
      };
    },
  );

  app.delete(
    '/v1/spaces/:id/corrections/:correction',
    {
      onRequest: scope('admin'),
      schema: {
        tags,
        security,
        summary: 'Delete a headcount',
        description:
          'Corrected counts after it go back to what they were without it. Recorded in the audit trail.',
        params: Type.Object({ ...IdParams.properties, correction: Type.String() }),
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const { tenant, tokenId } = request.principal!;
      const { id, correction } = request.params;
      await store.transaction(async (tx) => {
        const old = await tx.occupancy.correction(tenant, correction);
        if (!old || old.space !== id)
          throw new BeaconError('CORRECTION_NOT_FOUND', `space ${id} has no correction ${correction}`);
        await tx.occupancy.deleteCorrection(tenant, correction);
        await audit(tx.occupancy, tenant, tokenId, 'correction.deleted', id, {
          correction: old.id,
          at: isoTime(old.at),
          count: old.count,
          note: old.note,
          by: old.createdBy,
        });
      });
      await pushCounts(ctx, tenant, [id]);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/occupancy-audit',
    {
      onRequest: scope('read'),
      schema: {
        tags,
        security,
        summary: 'Who corrected, moved or changed what, and when',
        description: 'Newest first, paged by cursor; `space` keeps one space’s entries.',
        querystring: Type.Object({ ...NewestQuery.properties, space: Type.Optional(Type.String()) }),
        response: { 200: pageOf(AuditItem), ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (request) => {
      const { limit, space } = request.query;
      const rows = await store.occupancy.audit({
        tenant: request.principal!.tenant,
        limit: limit + 1,
        space,
        before: newestAfter(request.query),
      });
      const shown = rows.slice(0, limit);
      return {
        items: shown.map(auditJson),
        next: rows.length > limit ? encodeCursor([shown.at(-1)!.id]) : null,
      };
    },
  );
}
