import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { RouteContext } from './context.ts';
import { errorResponses, IsoTime } from './schemas.ts';
import { isoTime } from '../wire/time.ts';
import { storageReport, type StorageReport } from '../observability/storage.ts';

const StoragePartItem = Type.Object({
  stream: Type.Union([Type.String(), Type.Null()], { description: 'The stream it holds or derives from.' }),
  tier: Type.Union(
    [Type.Literal('hot'), Type.Literal('compacted'), Type.Literal('derived'), Type.Literal('log')],
    {
      description:
        '`hot`: records as written (a row each); `compacted`: records in compressed blocks; `derived`: what is computed from them (rollups, states); `log`: the embedded log.',
    },
  ),
  label: Type.String(),
  bytes: Type.Integer({ description: 'Bytes on disk, indexes included.' }),
  records: Type.Union([Type.Integer(), Type.Null()], {
    description: 'Records it holds; null for derived tables.',
  }),
});

const StorageReportBody = Type.Object(
  {
    at: IsoTime('When it was measured.'),
    bytes: Type.Integer({ description: 'Every table of the store and the log.' }),
    streams: Type.Array(
      Type.Object({
        stream: Type.String(),
        bytes: Type.Integer(),
        records: Type.Integer({
          description: 'Records the store keeps (or the log, where the store keeps none).',
        }),
        bytesPerRecord: Type.Union([Type.Number(), Type.Null()], {
          description: 'Everything the stream costs at rest (store and log, raw and derived) per record.',
        }),
        parts: Type.Array(StoragePartItem),
      }),
    ),
    other: Type.Array(StoragePartItem, {
      description: 'Tables that are no stream’s: tenants, tokens, targets…',
    }),
  },
  { $id: 'StorageReport' },
);

/** A report is measured at most this often; a request within it gets the last one. */
const STORAGE_REPORT_MS = 60_000;

/** `GET /v1/storage`: where the disk goes, for operators. */
export function registerStorageRoutes(base: FastifyInstance, ctx: RouteContext): void {
  base.addSchema(StorageReportBody);
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  // Measuring walks every page of the files (on a thread of its own): one measure serves a minute
  // of requests, and requests arriving meanwhile share it.
  let latest: Promise<StorageReport> | undefined;
  let latestAt = 0;
  app.get(
    '/v1/storage',
    {
      onRequest: ctx.scope('operator'),
      schema: {
        tags: ['operations'],
        security: [{ bearer: [] }],
        summary: 'Where the disk goes: bytes per stream, hot against compacted, and per record',
        description: `The store's tables and the embedded log, per stream. Measured at most once a minute (${STORAGE_REPORT_MS / 1000} s); \`beacon storage\` prints the same. Operator scope: it covers every tenant.`,
        response: { 200: Type.Ref('StorageReport'), ...errorResponses(401, 403, 429, 503) },
      },
    },
    async () => {
      if (!latest || Date.now() - latestAt > STORAGE_REPORT_MS) {
        latestAt = Date.now();
        latest = storageReport(ctx.store, ctx.log);
        latest.catch(() => (latest = undefined));
      }
      const report = await latest;
      return { ...report, at: isoTime(report.at) };
    },
  );
}
