import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses } from '../../http/schemas.ts';
import { EXPOSITION_CONTENT_TYPE, exposition, probeSample, type ProbeSample } from '../probe-metrics.ts';
import type { MonitorReader, MonitorStore } from '../store/repositories.ts';
import { TARGET_ID } from '../target.ts';
import { requireTarget } from './targets.ts';

/** Targets read per query: each page is one query (targets joined to their latest check). */
const PAGE = 500;

/** The samples of a tenant's targets (those with `tag`), page by page. */
async function samplesOf(
  reader: MonitorReader,
  tenant: string,
  tag: string | undefined,
): Promise<ProbeSample[]> {
  const samples: ProbeSample[] = [];
  let after: string | undefined;
  for (;;) {
    const rows = await reader.searchTargets({ tenant, tag, limit: PAGE, after });
    for (const { target, current } of rows) {
      const sample = probeSample(target, current);
      if (sample) samples.push(sample);
    }
    if (rows.length < PAGE) return samples;
    after = rows.at(-1)!.target.id;
    // An embedded store answers at once, and awaiting an answered promise does not yield: give other
    // requests their turn between pages.
    await nextTurn();
  }
}

/**
 * `/v1/probe-metrics`: the tenant's targets' latest checks for Prometheus, under blackbox_exporter's
 * names (probe-metrics.ts). Every sample is read before the first byte is sent, so a store failure is
 * an error answer rather than a cut-off exposition; the text is then written in chunks.
 */
export function registerProbeMetricsRoutes(base: FastifyInstance, ctx: RouteContext<MonitorStore>): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const reader = ctx.store.monitor;

  app.get(
    '/v1/probe-metrics',
    {
      onRequest: ctx.scope('read'),
      // Scraped every few seconds: logging each scrape would drown the useful lines.
      logLevel: 'warn',
      schema: {
        tags: ['monitor'],
        summary: 'Latest checks as Prometheus metrics (blackbox_exporter names)',
        description:
          'Text exposition format 0.0.4. For each target’s latest check: probe_success, probe_duration_seconds, probe_dns_lookup_time_seconds (http, tcp, dns), probe_http_duration_seconds by phase (resolve, connect, tls, processing, transfer), probe_http_status_code and probe_http_version (http), probe_ssl_earliest_cert_expiry (when a certificate was seen) and beacon_probe_checked_timestamp_seconds, each labelled target (id), instance (URL, host:port, DNS name or host) and kind. Paused targets and targets not yet checked have no series. Series per target: docs/operations.md.',
        security: [{ bearer: [] }],
        querystring: Type.Object({
          tag: Type.Optional(
            Type.String({ minLength: 1, maxLength: 64, description: 'Only targets with this tag.' }),
          ),
          target: Type.Optional(
            Type.String({
              pattern: TARGET_ID.source,
              description: 'Only this target (404 when there is none).',
            }),
          ),
        }),
        response: {
          200: {
            description: 'Prometheus text exposition format 0.0.4.',
            content: { 'text/plain': { schema: Type.String() } },
          },
          ...errorResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request, reply) => {
      const tenant = request.principal!.tenant;
      const { tag, target: id } = request.query;
      let samples: ProbeSample[];
      if (id === undefined) samples = await samplesOf(reader, tenant, tag);
      else {
        const target = await requireTarget(reader, tenant, id);
        const [last] = await reader.listChecks({ tenant, target: id, limit: 1 });
        const sample = tag === undefined || target.tags.includes(tag) ? probeSample(target, last) : undefined;
        samples = sample ? [sample] : [];
      }
      return reply.type(EXPOSITION_CONTENT_TYPE).send(Readable.from(exposition(samples)) as never);
    },
  );
}
