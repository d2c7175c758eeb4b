import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { parse, stringify } from 'yaml';
import { BeaconError } from '../../errors/catalog.ts';
import { requireContentType } from '../../http/auth.ts';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses } from '../../http/schemas.ts';
import { utf8Text } from '../../http/json-body.ts';
import { planTarget, runProbe } from '../kinds/plan.ts';
import { PlanParts } from '../probe.ts';
import type { MonitorStore } from '../store/repositories.ts';
import { parseTargetsFile } from '../target-file.ts';
import {
  compilePattern,
  MONITOR_KINDS,
  parseTargetSpec,
  specOf,
  type Target,
  type TargetSpec,
} from '../target.ts';
import { checkView } from './schemas.ts';
import { TargetInput, targetFromBody, tokenTaken } from './targets.ts';

/** Most targets one bulk action or one import may touch. */
export const BULK_LIMIT = 20_000;
/** Largest YAML body an import takes. */
export const IMPORT_MAX_BYTES = 8 * 1024 * 1024;
/** Most per-target failures a bulk answer lists (the count has them all). */
const FAILURES_SHOWN = 20;
const PAGE = 500;

const BULK_ACTIONS = ['pause', 'resume', 'delete', 'addTag', 'removeTag'] as const;
type BulkAction = (typeof BULK_ACTIONS)[number];

/** The spec after a bulk action, or undefined when the action changes nothing. */
function applied(action: Exclude<BulkAction, 'delete'>, spec: TargetSpec, value: string | undefined) {
  const tags = spec.tags;
  switch (action) {
    case 'pause':
      return spec.paused === true ? undefined : { ...spec, paused: true };
    case 'resume': {
      if (spec.paused !== true) return undefined;
      const { paused: _paused, ...rest } = spec;
      return rest as TargetSpec;
    }
    case 'addTag':
      return tags.includes(value!) ? undefined : { ...spec, tags: [...tags, value!] };
    case 'removeTag':
      return tags.includes(value!) ? { ...spec, tags: tags.filter((t) => t !== value) } : undefined;
  }
}

/**
 * The tools of a dashboard that manages many targets: bulk actions by tag or ids, a one-off check of
 * a spec before it is saved, and the tenant's targets as YAML (export and import, in the targets
 * file's format).
 */
export function registerTargetToolRoutes(base: FastifyInstance, ctx: RouteContext<MonitorStore>): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { store, scope, config } = ctx;
  const reader = store.monitor;
  const changed = () => ctx.targetsChanged?.();

  /** Every target of a tenant with `tag` (at most BULK_LIMIT, else BATCH_TOO_LARGE), paged by id. */
  async function taggedTargets(tenant: string, tag: string | undefined): Promise<Target[]> {
    const count = await reader.countTargets({ tenant, tag });
    if (count > BULK_LIMIT)
      throw new BeaconError('BATCH_TOO_LARGE', `${count} targets match; at most ${BULK_LIMIT} at once`);
    const out: Target[] = [];
    let after: string | undefined;
    for (;;) {
      const rows = await reader.searchTargets({ tenant, tag, limit: PAGE, after });
      out.push(...rows.map((r) => r.target));
      if (rows.length < PAGE || out.length >= BULK_LIMIT) return out;
      after = rows.at(-1)!.target.id;
    }
  }

  app.post(
    '/v1/targets/bulk',
    {
      onRequest: [scope('admin'), requireContentType('application/json')],
      schema: {
        tags: ['monitor'],
        summary: 'Pause, resume, delete or tag many targets at once',
        description: `Selects the targets with \`tag\`, or those listed in \`ids\` (one of the two), at most ${BULK_LIMIT}. Targets from the targets file are left alone and counted as readOnly.`,
        security: [{ bearer: [] }],
        body: Type.Object(
          {
            action: Type.Enum(BULK_ACTIONS),
            tag: Type.Optional(
              Type.String({ minLength: 1, maxLength: 64, description: 'Act on every target with this tag.' }),
            ),
            ids: Type.Optional(
              Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
                minItems: 1,
                maxItems: 1000,
                description: 'Act on these targets (ids not found are counted as missing).',
              }),
            ),
            value: Type.Optional(
              Type.String({
                minLength: 1,
                maxLength: 64,
                description: 'The tag addTag adds or removeTag removes.',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            matched: Type.Integer({ description: 'Targets selected.' }),
            changed: Type.Integer({ description: 'Targets changed (or deleted).' }),
            unchanged: Type.Integer({
              description: 'Targets the action left as they were (paused already…).',
            }),
            readOnly: Type.Integer({ description: 'Targets from the targets file, left alone.' }),
            missing: Type.Integer({ description: 'Listed ids with no target.' }),
            failed: Type.Array(Type.Object({ id: Type.String(), message: Type.String() }), {
              description: `Targets the change would make invalid (a 33rd tag…), at most ${FAILURES_SHOWN} listed.`,
            }),
          }),
          ...errorResponses(400, 401, 403, 413, 415, 429),
        },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const { action, tag, ids, value } = request.body;
      if ((tag === undefined) === (ids === undefined))
        throw new BeaconError('VALIDATION_FAILED', 'give either tag or ids');
      if ((action === 'addTag' || action === 'removeTag') !== (value !== undefined))
        throw new BeaconError(
          'VALIDATION_FAILED',
          'value (the tag) goes with addTag and removeTag, and only them',
        );
      let targets: Target[];
      let missing = 0;
      if (ids !== undefined) {
        targets = [];
        for (const id of new Set(ids)) {
          const t = await reader.getTarget(tenant, id);
          if (t) targets.push(t);
          else missing++;
        }
      } else targets = await taggedTargets(tenant, tag);
      const result = { matched: targets.length, changed: 0, unchanged: 0, readOnly: 0, missing };
      const failed: { id: string; message: string }[] = [];
      const now = Date.now();
      for (const t of targets) {
        if (t.source === 'file') {
          result.readOnly++;
          continue;
        }
        if (action === 'delete') {
          if (await store.targets.delete(tenant, t.id)) result.changed++;
          continue;
        }
        const next = applied(action, specOf(t), value);
        if (next === undefined) {
          result.unchanged++;
          continue;
        }
        const parsed = parseTargetSpec(next);
        if ('problems' in parsed) {
          failed.push({ id: t.id, message: parsed.problems.map((p) => `${p.path} ${p.message}`).join('; ') });
          continue;
        }
        if (await store.targets.update(tenant, t.id, parsed.spec, now)) result.changed++;
      }
      if (result.changed > 0) changed();
      return { ...result, failed: failed.slice(0, FAILURES_SHOWN) };
    },
  );

  app.post(
    '/v1/targets/check',
    {
      onRequest: [scope('admin'), requireContentType('application/json')],
      schema: {
        tags: ['monitor'],
        summary: 'Check a target spec once, without saving it',
        description:
          'Validated exactly as create is (same errors); then one check runs with the spec’s timeout, as the prober would make it, and its outcome comes back. Nothing is stored. A push target is judged by the last push its `id` received.',
        security: [{ bearer: [] }],
        body: TargetInput,
        response: {
          200: Type.Object({ check: Type.Ref('Check') }),
          ...errorResponses(400, 401, 403, 415, 429),
        },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const now = Date.now();
      // createdAt 0: old enough that a push target without a push is judged (missed), not pending.
      const target = targetFromBody(request.body, tenant, () => 'preview', { createdAt: 0, updatedAt: now });
      const { plan } = planTarget(target, new PlanParts(compilePattern));
      const result = (await runProbe(
        plan,
        { tenant, target: target.id, scheduledAt: now },
        {
          lastPush: (t, target) => store.pushes.last(t, target),
          pingCommand: config.monitor.pingCommand,
        },
      ))!;
      return {
        check: checkView({
          ...result,
          kind: target.kind ?? 'http',
          tenant,
          target: target.id,
          region: config.monitor.region,
          slot: 0,
          scheduledAt: now,
        }),
      };
    },
  );

  app.get(
    '/v1/targets.yaml',
    {
      onRequest: scope('read'),
      schema: {
        tags: ['monitor'],
        summary: 'The tenant’s targets as YAML, in the targets file’s format',
        description:
          'Every target (or those with `tag` or of `kind`), id first, without the tenant: what `POST /v1/targets/import` reads back. Push targets carry their token.',
        security: [{ bearer: [] }],
        querystring: Type.Object({
          tag: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          kind: Type.Optional(Type.Enum(MONITOR_KINDS)),
        }),
        response: {
          200: {
            description: 'YAML, UTF-8: a mapping with a `targets` list (each item its id and spec).',
            content: {
              'application/yaml': {
                schema: Type.Object({ targets: Type.Array(Type.Record(Type.String(), Type.Unknown())) }),
              },
            },
          },
          ...errorResponses(400, 401, 403, 429),
        },
      },
    },
    async (request, reply) => {
      const tenant = request.principal!.tenant;
      const { tag, kind } = request.query;
      const items: Record<string, unknown>[] = [];
      let after: string | undefined;
      for (;;) {
        const rows = await reader.searchTargets({ tenant, tag, kind, limit: PAGE, after });
        for (const { target } of rows) items.push({ id: target.id, ...specOf(target) });
        if (rows.length < PAGE) break;
        after = rows.at(-1)!.target.id;
      }
      return reply
        .type('application/yaml; charset=utf-8')
        .header('content-disposition', 'attachment; filename="targets.yaml"')
        .send(stringify({ targets: items }, { lineWidth: 0 }) as never);
    },
  );

  void base.register((scoped, _opts, done) => {
    for (const type of ['application/yaml', 'text/yaml']) {
      if (scoped.hasContentTypeParser(type)) scoped.removeContentTypeParser(type);
      scoped.addContentTypeParser(type, { parseAs: 'buffer' }, (_request, body, next) => {
        try {
          next(null, utf8Text(body as Buffer));
        } catch (err) {
          next(err as Error);
        }
      });
    }
    scoped.withTypeProvider<TypeBoxTypeProvider>().post(
      '/v1/targets/import',
      {
        onRequest: [scope('admin'), requireContentType('application/yaml', 'text/yaml')],
        bodyLimit: IMPORT_MAX_BYTES,
        schema: {
          tags: ['monitor'],
          summary: 'Create or replace targets from YAML',
          description: `A targets file's \`targets\` list (as \`GET /v1/targets.yaml\` gives it; items without \`tenant\` are the caller's), at most ${BULK_LIMIT} items and ${IMPORT_MAX_BYTES / 1048576} MiB. Every item is checked first: one invalid item (TARGET_INVALID, naming its line, index and field) or one targets-file target among them (TARGET_READ_ONLY) and nothing is written. Then each is created, or replaces the spec of the target with its id.`,
          security: [{ bearer: [] }],
          body: {
            content: {
              'application/yaml': { schema: Type.String({ description: 'YAML with a `targets` list.' }) },
              'text/yaml': { schema: Type.String({ description: 'YAML with a `targets` list.' }) },
            },
          },
          response: {
            200: Type.Object({
              created: Type.Integer(),
              updated: Type.Integer(),
              unchanged: Type.Integer(),
            }),
            ...errorResponses(400, 401, 403, 409, 413, 415, 429),
          },
        },
      },
      async (request) => {
        const tenant = request.principal!.tenant;
        const now = Date.now();
        let defined;
        try {
          defined = parseTargetsFile(request.body as string, 'import', new Set([tenant]), now, tenant);
        } catch (err) {
          if (err instanceof BeaconError && err.code === 'TARGETS_FILE_INVALID')
            throw new BeaconError('TARGET_INVALID', err.message);
          throw err;
        }
        // An import without a `targets` list (an empty document, `{}`) is a mistake, not "nothing to do".
        const document: unknown = parse(request.body as string);
        if (typeof document !== 'object' || document === null || !('targets' in document))
          throw new BeaconError('TARGET_INVALID', 'import: the document needs a `targets` list');
        const { targets, channels, alertRules, maintenance } = defined;
        if (channels.length + alertRules.length + maintenance.length > 0)
          throw new BeaconError('TARGET_INVALID', 'import takes a targets list only');
        if (targets.length > BULK_LIMIT)
          throw new BeaconError('BATCH_TOO_LARGE', `at most ${BULK_LIMIT} targets at once`);
        const existing = new Map<string, Target>();
        for (const t of targets) {
          const found = await reader.getTarget(tenant, t.id);
          if (found?.source === 'file')
            throw new BeaconError('TARGET_READ_ONLY', `${t.id} is defined in the targets file`);
          if (found) existing.set(t.id, found);
        }
        const result = { created: 0, updated: 0, unchanged: 0 };
        for (const t of targets) {
          const spec = specOf(t);
          const old = existing.get(t.id);
          if (!old) {
            await store.targets.create({ ...t, source: 'api' }).catch(tokenTaken);
            result.created++;
          } else if (JSON.stringify(specOf(old)) === JSON.stringify(spec)) result.unchanged++;
          else {
            await store.targets.update(tenant, t.id, spec, now).catch(tokenTaken);
            result.updated++;
          }
        }
        if (result.created + result.updated > 0) changed();
        return result;
      },
    );
    done();
  });
}
