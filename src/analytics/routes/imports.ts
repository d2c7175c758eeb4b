import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { BeaconError } from '../../errors/catalog.ts';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses, IsoTime } from '../../http/schemas.ts';
import { isoTime, isoTimeOrNull } from '../../wire/time.ts';
import type { ImportWorker } from '../import-worker.ts';
import type { Import, ImportFile, ImportSource } from '../model.ts';
import type { AnalyticsStore } from '../store/repositories.ts';
import { formatLocal } from '../time-zone.ts';
import { SiteParams } from './schemas.ts';
import { ownedSite } from './stats-access.ts';

const MAX_FILES = 20;

const ImportBody = Type.Object(
  {
    id: Type.String(),
    source: Type.String({ description: '`plausible` or `umami`.' }),
    status: Type.String({ description: '`queued`, `running`, `completed` or `failed`.' }),
    done: Type.Integer({
      description: 'Rows read so far while reading; cells written of `total` while writing.',
    }),
    total: Type.Integer({ description: 'Cells to write, once the files are read (0 before).' }),
    firstDay: Type.Union([Type.String(), Type.Null()]),
    lastDay: Type.Union([Type.String(), Type.Null()]),
    skippedDays: Type.Integer({ description: 'Days left out because Beacon collected data for them.' }),
    error: Type.Union([Type.String(), Type.Null()], {
      description: 'Why it failed; for a completed import, what was not imported.',
    }),
    createdAt: IsoTime('When it was uploaded.'),
    finishedAt: Type.Union([IsoTime('When it completed or failed.'), Type.Null()]),
  },
  { $id: 'Import' },
);

const importJson = (i: Import) => ({
  id: i.id,
  source: i.source,
  status: i.status,
  done: i.done,
  total: i.total,
  firstDay: i.firstDay === null ? null : formatLocal(i.firstDay, false),
  lastDay: i.lastDay === null ? null : formatLocal(i.lastDay, false),
  skippedDays: i.skippedDays,
  error: i.error,
  createdAt: isoTime(i.createdAt),
  finishedAt: isoTimeOrNull(i.finishedAt),
});

/** The export's identity: its source and files, whatever order they came in. */
function contentHash(source: ImportSource, files: readonly ImportFile[]): string {
  const hash = createHash('sha256').update(source);
  for (const f of [...files].sort((a, b) => (a.name < b.name ? -1 : 1)))
    hash.update(`\0${f.name}\0${f.content.length}\0`).update(f.content);
  return hash.digest('hex');
}

/** What the import routes use. */
export interface ImportRouteOptions {
  readonly store: AnalyticsStore;
  readonly worker: ImportWorker;
  readonly maxBytes: number;
  readonly scope: RouteContext['scope'];
}

/**
 * `/v1/sites/:id/imports`: another tool's export brought in as imported aggregates, kept apart from
 * collected data; uploaded, followed and deleted with an admin token.
 */
export function registerImports(base: FastifyInstance, options: ImportRouteOptions): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { store, worker, scope } = options;
  const ItemParams = Type.Object({ id: Type.String(), import: Type.String() });

  app.post(
    '/v1/sites/:id/imports',
    {
      onRequest: scope('admin'),
      bodyLimit: options.maxBytes,
      schema: {
        tags: ['analytics'],
        summary: "Import another tool's export",
        description:
          "`plausible`: the `imported_*.csv` files of Plausible CE's CSV export (Settings → Imports & Exports). `umami`: the files of Umami's data export (`website_event.csv` is what counts). Files are given by name with their text. The import runs in the background (`GET …/imports/:import` shows progress): days Beacon already collected are left out, and an export whose days overlap another import is refused. Uploading the same files again is the same import: it answers 200 with it, and nothing is counted twice. Imported figures are added to stats answers read from rollups (no filters, at most one dimension, day or longer intervals), where `meta.imported` says so.",
        security: [{ bearer: [] }],
        params: SiteParams,
        body: Type.Object(
          {
            source: Type.Union([Type.Literal('plausible'), Type.Literal('umami')]),
            files: Type.Record(Type.String({ maxLength: 200 }), Type.String(), {
              description: 'File name → CSV text.',
            }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: ImportBody,
          202: ImportBody,
          ...errorResponses(400, 401, 403, 404, 413, 429),
        },
      },
    },
    async (request, reply) => {
      const site = await ownedSite(store.analytics, request, request.params.id);
      const { source } = request.body;
      const files = Object.entries(request.body.files).map(([name, content]) => ({ name, content }));
      if (files.length === 0 || files.length > MAX_FILES)
        throw new BeaconError('IMPORT_INVALID', `an import has 1 to ${MAX_FILES} files`);
      for (const f of files)
        if (!/\.csv$/i.test(f.name)) throw new BeaconError('IMPORT_INVALID', `${f.name} is not a .csv file`);
      const hash = contentHash(source, files);
      const same = (await store.analytics.imports(site.tenant, site.id)).find((i) => i.contentHash === hash);
      if (same && same.status !== 'failed') return reply.code(200).send(importJson(same));
      const record: Import = {
        tenant: site.tenant,
        site: site.id,
        id: 'im_' + randomBytes(9).toString('base64url'),
        source,
        contentHash: hash,
        status: 'queued',
        done: 0,
        total: 0,
        firstDay: null,
        lastDay: null,
        skippedDays: 0,
        error: null,
        createdAt: Date.now(),
        finishedAt: null,
      };
      await store.transaction(async (tx) => {
        // The same files failed before (a bad row, an overlap since deleted): they are tried afresh.
        if (same) await tx.analytics.deleteImport(site.tenant, site.id, same.id);
        await tx.analytics.createImport(record, files);
      });
      worker.wake();
      return reply.code(202).send(importJson(record));
    },
  );

  app.get(
    '/v1/sites/:id/imports',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: "List a site's imports, newest first",
        security: [{ bearer: [] }],
        params: SiteParams,
        response: {
          200: Type.Object({ items: Type.Array(ImportBody) }),
          ...errorResponses(401, 403, 404, 429),
        },
      },
    },
    async (request) => {
      const site = await ownedSite(store.analytics, request, request.params.id);
      return { items: (await store.analytics.imports(site.tenant, site.id)).map(importJson) };
    },
  );

  app.get(
    '/v1/sites/:id/imports/:import',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: 'One import and its progress',
        security: [{ bearer: [] }],
        params: ItemParams,
        response: { 200: ImportBody, ...errorResponses(401, 403, 404, 429) },
      },
    },
    async (request) => {
      const site = await ownedSite(store.analytics, request, request.params.id);
      const found = await store.analytics.findImport(site.tenant, site.id, request.params.import);
      if (!found) throw new BeaconError('IMPORT_UNKNOWN', `no import ${request.params.import}`);
      return importJson(found);
    },
  );

  app.delete(
    '/v1/sites/:id/imports/:import',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: 'Delete an import and everything it imported',
        description: 'Collected data is untouched. An import under way stops.',
        security: [{ bearer: [] }],
        params: ItemParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const site = await ownedSite(store.analytics, request, request.params.id);
      const gone = await store.transaction((tx) =>
        tx.analytics.deleteImport(site.tenant, site.id, request.params.import),
      );
      if (!gone) throw new BeaconError('IMPORT_UNKNOWN', `no import ${request.params.import}`);
      return reply.code(204).send(null);
    },
  );
}
