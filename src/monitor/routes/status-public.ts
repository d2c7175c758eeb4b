import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { BeaconError } from '../../errors/catalog.ts';
import type { RouteContext } from '../../http/context.ts';
import { TokenBuckets } from '../../http/rate-limit.ts';
import { errorResponses, IsoTime } from '../../http/schemas.ts';
import { isoTime, isoTimeOrNull } from '../../wire/time.ts';
import { statusAtom } from '../status/atom.ts';
import { renderedOf, type Rendered, type StatusCache } from '../status/cache.ts';
import { statusHtml } from '../status/html.ts';
import { renderMarkdown } from '../status/markdown.ts';
import { statusView, type PublicIncident, type StatusView } from '../status/view.ts';
import { STATUS_SLUG, StatusUpdateSpecSchema } from '../status-page.ts';
import type { MonitorStore } from '../store/repositories.ts';

const State = Type.Union(
  ['down', 'degraded', 'maintenance', 'up', 'unknown', 'paused'].map((s) => Type.Literal(s)),
);
const Percent = Type.Union([Type.Number(), Type.Null()]);
const IncidentJson = Type.Object({
  name: Type.String({ description: 'The target’s display name.' }),
  region: Type.String(),
  startedAt: IsoTime('When its first failed check was scheduled.'),
  endedAt: Type.Union([IsoTime('When it closed.'), Type.Null()]),
  cause: Type.String(),
});

/** A public status page as JSON: what its HTML shows. */
const StatusJson = Type.Object(
  {
    slug: Type.String(),
    title: Type.String(),
    description: Type.String(),
    theme: Type.String(),
    at: IsoTime('When this was read.'),
    state: State,
    groups: Type.Array(
      Type.Object({
        name: Type.String(),
        state: State,
        targets: Type.Array(
          Type.Object({
            name: Type.String(),
            address: Type.Union([Type.String(), Type.Null()], {
              description: 'What it checks, when the page shows that.',
            }),
            state: State,
            uptime: Percent,
            latencyMs: Type.Union([Type.Number(), Type.Null()]),
            days: Type.Array(
              Type.Object({
                date: Type.String({ description: 'UTC day, YYYY-MM-DD.' }),
                checks: Type.Integer(),
                uptime: Percent,
                incidents: Type.Array(IncidentJson),
              }),
              { description: 'The last 90 days, oldest first.' },
            ),
          }),
        ),
      }),
    ),
    omitted: Type.Integer({ description: 'Targets left out past the page’s cap.' }),
    incidents: Type.Array(IncidentJson, { description: 'Incidents open now.' }),
    maintenance: Type.Array(
      Type.Object({
        title: Type.String(),
        active: Type.Boolean(),
        start: IsoTime('Start.'),
        end: IsoTime('End.'),
      }),
    ),
    updates: Type.Array(
      Type.Object({
        id: Type.String(),
        title: Type.String(),
        status: StatusUpdateSpecSchema.properties.status,
        at: IsoTime('When it happened.'),
        body: Type.String({ description: 'Markdown, as written.' }),
        html: Type.String({ description: 'The body rendered (HTML escaped, safe links only).' }),
      }),
    ),
  },
  { $id: 'PublicStatusPage' },
);

const incidentJson = (i: PublicIncident) => ({
  name: i.name,
  region: i.region,
  startedAt: isoTime(i.startedAt),
  endedAt: isoTimeOrNull(i.endedAt),
  cause: i.cause,
});

function statusJson(view: StatusView) {
  const { page } = view;
  return {
    slug: page.slug,
    title: page.title,
    description: page.description,
    theme: page.theme,
    at: isoTime(view.at),
    state: view.state,
    groups: view.groups.map((g) => ({
      name: g.name,
      state: g.state,
      targets: g.targets.map((t) => ({
        name: t.name,
        address: t.address,
        state: t.state,
        uptime: t.uptime,
        latencyMs: t.latencyMs,
        days: t.days.map((d) => ({
          date: isoTime(d.start).slice(0, 10),
          checks: d.checks,
          uptime: d.uptime,
          incidents: d.incidents.map(incidentJson),
        })),
      })),
    })),
    omitted: view.omitted,
    incidents: view.incidents.map(incidentJson),
    maintenance: view.maintenance.map((w) => ({ ...w, start: isoTime(w.start), end: isoTime(w.end) })),
    updates: view.updates.map((u) => ({
      id: u.id,
      title: u.title,
      status: u.status,
      at: isoTime(u.at),
      body: u.body,
      html: renderMarkdown(u.body),
    })),
  };
}

/** True when an Accept-Encoding header takes gzip (not with q=0). */
function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding !== 'gzip' && coding !== '*') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

const SlugParams = Type.Object({ slug: Type.String({ description: 'The page’s slug.' }) });
const SLUG = new RegExp(STATUS_SLUG);
/** A page's own style only: no script, nothing from elsewhere. */
const CSP =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The public status pages: `/status/{slug}` as HTML, `.json` and `/feed.atom`, and `/` on a page's
 * custom domain. No token; each client address is rate-limited, every answer carries an ETag and
 * may be cached for `monitor.statusPages.cacheSeconds`.
 */
export function registerPublicStatusRoutes(
  base: FastifyInstance,
  ctx: RouteContext<MonitorStore>,
  cache: StatusCache,
): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const settings = ctx.config.monitor.statusPages;
  const perMinute = settings.rateLimitPerMinute;
  const buckets = new TokenBuckets({ perSecond: perMinute / 60, burst: perMinute });
  const cacheControl = `public, max-age=${settings.cacheSeconds}`;
  app.addSchema(StatusJson);

  const limit = (request: FastifyRequest): void => {
    const wait = buckets.take(request.ip);
    if (wait > 0) throw new BeaconError('STATUS_PAGE_RATE_LIMITED', undefined, { retryAfter: wait });
  };

  const view = async (slug: string): Promise<StatusView> => {
    const page = SLUG.test(slug) ? await ctx.store.statusPages.bySlug(slug) : undefined;
    // A disabled tenant's pages go dark with its tokens (after the cache, as any change).
    if (!page || (await ctx.authenticator.tenantDisabled(page.tenant)))
      throw new BeaconError('STATUS_PAGE_NOT_FOUND', `no status page ${slug}`);
    return statusView(ctx.store, page, { maxTargets: settings.maxTargets, now: Date.now() });
  };

  /** Sends a rendered form, gzipped when the client takes that: 304 when it holds it already. */
  const send = (request: FastifyRequest, reply: FastifyReply, rendered: Rendered) => {
    const gzip = acceptsGzip(request.headers['accept-encoding']);
    // Each encoding is its own representation, with its own tag; either held is current.
    const gzipTag = rendered.etag.replace(/"$/, '-gz"');
    void reply
      .header('etag', gzip ? gzipTag : rendered.etag)
      .header('cache-control', cacheControl)
      .header('vary', 'Accept-Encoding');
    const held = request.headers['if-none-match'];
    if (
      held !== undefined &&
      held.split(',').some((t) => [rendered.etag, gzipTag, '*'].includes(t.trim().replace(/^W\//, '')))
    )
      return reply.code(304).send();
    if (!gzip) return reply.type(rendered.type).send(rendered.body);
    return reply.type(rendered.type).header('content-encoding', 'gzip').send(rendered.gzip);
  };

  const html = (slug: string) =>
    cache.rendered(slug, 'html', async () => {
      const body = statusHtml(await view(slug), `/status/${slug}`);
      return renderedOf(body, 'text/html; charset=utf-8');
    });

  const hidden = { hide: true };
  app.get('/status/:slug', { schema: { ...hidden, params: SlugParams } }, async (request, reply) => {
    limit(request);
    void reply.header('content-security-policy', CSP);
    return send(request, reply, await html(request.params.slug));
  });

  app.get(
    '/status/:slug.json',
    {
      schema: {
        tags: ['monitor'],
        summary: 'A public status page as JSON',
        description:
          'What `/status/{slug}` shows, without a token: each group’s and target’s state, 90 days of uptime from the day rollups with the incidents of each day, open incidents, maintenance and the incident updates. Cached for `monitor.statusPages.cacheSeconds` (ETag, 304 on If-None-Match) and rate-limited per client address.',
        params: SlugParams,
        response: {
          200: Type.Ref('PublicStatusPage'),
          304: Type.Null({ description: 'The client’s copy (If-None-Match) is current.' }),
          ...errorResponses(404, 429),
        },
      },
    },
    async (request, reply) => {
      limit(request);
      const { slug } = request.params;
      const rendered = await cache.rendered(slug, 'json', async () => {
        const body = JSON.stringify(statusJson(await view(slug)));
        return renderedOf(body, 'application/json; charset=utf-8');
      });
      // Public data without credentials: any site may show it (a widget, another dashboard).
      void reply.header('access-control-allow-origin', '*');
      return send(request, reply, rendered);
    },
  );

  app.get(
    '/status/:slug/feed.atom',
    { schema: { ...hidden, params: SlugParams } },
    async (request, reply) => {
      limit(request);
      const { slug } = request.params;
      const origin = `${request.protocol}://${request.host}`;
      const rendered = await cache.rendered(slug, `atom ${origin}`, async () => {
        const body = statusAtom(await view(slug), origin, `/status/${slug}`);
        return renderedOf(body, 'application/atom+xml; charset=utf-8');
      });
      return send(request, reply, rendered);
    },
  );

  // A page with a domain of its own is served at `/` of that host; other hosts go on to the
  // dashboard's `/`.
  app.addHook('onRequest', async (request, reply) => {
    if ((request.method !== 'GET' && request.method !== 'HEAD') || request.url !== '/') return;
    const host = request.hostname.toLowerCase();
    const slug = await cache.domain(host, async () => (await ctx.store.statusPages.byDomain(host))?.slug);
    if (slug === undefined) return;
    limit(request);
    void reply.header('content-security-policy', CSP);
    return send(request, reply, await html(slug));
  });
}
